"""Map botocore errors from the replica region to the replicator's own exceptions.

Our messages are written here, never copied from AWS: a ValidationException text can quote parts
of a request, and nothing of an item may reach a log line or a failure message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from replicator.core.errors import (
    AccessDenied,
    ItemTooLarge,
    KeySchemaMismatch,
    ReplicaMissing,
    ReplicaRejected,
    ReplicatorError,
    ReplicaUnavailable,
    Throttled,
    WriteConflict,
)

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
    }
)
UNAVAILABLE_CODES = frozenset(
    {
        "InternalServerError",
        "ServiceUnavailable",
        "InternalFailure",
        "ExpiredTokenException",
        "RequestExpired",
    }
)
CONFLICT_CODES = frozenset(
    {"TransactionConflictException", "TransactionInProgressException", "TransactionConflict"}
)
DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnrecognizedClientException"})
CONNECTION_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)


def _validation(message: str, code: str) -> ReplicatorError:
    text = message.lower()
    if "size" in text and ("exceed" in text or "maximum" in text or "too large" in text):
        return ItemTooLarge(f"the item with the replicator's version attribute exceeds 400 KB ({code})")
    if "key" in text and ("type mismatch" in text or "missing the key" in text or "schema" in text):
        return KeySchemaMismatch(f"the record's key does not match the replica table's key schema ({code})")
    return ReplicaRejected(f"the replica rejected the write as invalid ({code})")


def from_code(code: str, message: str = "", status: int = 0) -> ReplicatorError:
    """Classify one error code (a whole request's or one transaction item's cancellation reason)."""
    if code in THROTTLING_CODES:
        return Throttled(f"the replica throttled the write ({code})")
    if code in CONFLICT_CODES:
        return WriteConflict(f"a concurrent transaction touched the same item ({code})")
    if code in DENIED_CODES:
        return AccessDenied(f"the replicator may not write to the replica ({code}); check its IAM role")
    if code == "ResourceNotFoundException":
        return ReplicaMissing("the replica or state table does not exist in the replica region")
    if code in ("ValidationException", "ValidationError"):
        return _validation(message, code)
    if code in UNAVAILABLE_CODES or status >= 500:
        return ReplicaUnavailable(f"the replica region answered {code or status}")
    return ReplicaRejected(f"the replica refused the write ({code or status})")


def classify(exc: Exception) -> ReplicatorError:
    """Our exception for a botocore error raised by a replica call."""
    if isinstance(exc, ClientError):
        error: Mapping[str, Any] = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return from_code(str(error.get("Code", "")), str(error.get("Message", "")), status)
    if isinstance(exc, ParamValidationError):
        # botocore refused to build the request: the same request can never succeed.
        return ReplicaRejected("the request was refused before it was sent (ParamValidationError)")
    if isinstance(exc, NoCredentialsError):
        return AccessDenied("no AWS credentials to write to the replica with (NoCredentialsError)")
    if isinstance(exc, CONNECTION_ERRORS):
        return ReplicaUnavailable(f"no answer from the replica region ({type(exc).__name__})")
    return ReplicaUnavailable(f"unexpected error talking to the replica region ({type(exc).__name__})")
