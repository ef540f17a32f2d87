"""Every failure the replicator can report, one class each.

Two families decide what happens next:

* :class:`RetryableError`: the replica could not take the write *now* (throttling, a 5xx, a lost
  connection). Retried with jittered backoff while the invocation has time; after that the record is
  reported to Lambda as a batch item failure and delivered again.
* :class:`PoisonRecord`: the record can never be written as it is (malformed, too large, wrong key
  type). It fails only itself; Lambda's retries end by sending it to the failure destination.

Messages name the problem, the sequence number and a hash of the key, never an attribute value.
"""

from __future__ import annotations


class ReplicatorError(Exception):
    """Base class of the replicator's own errors."""


class ConfigurationError(ReplicatorError, ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


class RetryableError(ReplicatorError):
    """The replica region refused or did not answer; the same write may succeed later."""

    retry_in_process = True
    """False where an immediate retry cannot help (permissions, a missing table): fail fast instead."""


class Throttled(RetryableError):
    """The replica table or the account throttled the write."""


class ReplicaUnavailable(RetryableError):
    """A 5xx answer, a timeout or a connection failure talking to the replica region."""


class WriteConflict(RetryableError):
    """A concurrent transaction on the same item; safe to retry."""


class DeadlineExceeded(RetryableError):
    """The invocation ran out of time before this write could be confirmed."""


class PoisonRecord(ReplicatorError):
    """A record that can never be written as it is; it fails alone and is never retried in-process."""


class MalformedInput(PoisonRecord):
    """The stream record itself is unusable (missing keys, unknown event, KEYS_ONLY image...)."""


class MetadataCollision(PoisonRecord):
    """The source item has an attribute named like the replicator's metadata."""


class ExcludedKeyAttribute(PoisonRecord):
    """EXCLUDE_ATTRIBUTES names an attribute of the item's primary key, which must be copied."""


class ItemTooLarge(PoisonRecord):
    """The item with the replicator's metadata exceeds DynamoDB's 400 KB item limit."""


class KeySchemaMismatch(PoisonRecord):
    """The record's key does not fit the replica table's key schema (name or type)."""


class ReplicaRejected(PoisonRecord):
    """The replica answered with a validation error that retrying cannot fix."""


class AccessDenied(RetryableError):
    """The replicator may not write to the replica (IAM, or the role cannot be assumed).

    Retryable on purpose: a permission fix must not lose the records that failed meanwhile.
    """

    retry_in_process = False


class ReplicaMissing(RetryableError):
    """The replica or state table does not exist (yet) in the replica region."""

    retry_in_process = False
