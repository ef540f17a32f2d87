"""The on-failure destination: one message per discarded batch, in Lambda's format.

Lambda sends metadata only (which shard and sequence-number range), never the records, so an
operator can read them again from the stream while they are retained (24 hours). The same holds
here; ``python -m replicator redrive`` consumes exactly these messages.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from localrun.esm.records import PendingRecord

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class Condition(enum.StrEnum):
    """Why Lambda gave up on the records."""

    RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
    RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


def _arrival(record: PendingRecord, fallback: float) -> str:
    # DynamoDB's arrival times have one-second resolution; Lambda writes them without fractions.
    moment = record.created_at if record.created_at is not None else fallback
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def failure_message(
    *,
    records: Sequence[PendingRecord],
    condition: Condition,
    function_arn: str,
    request_id: str,
    invoke_count: int,
    function_error: str | None,
    shard_id: str,
    stream_arn: str,
    now: float,
) -> dict[str, Any]:
    """The invocation record Lambda sends for discarded DynamoDB stream records."""
    if not records:
        raise ValueError("a failure message describes at least one record")
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    response_context["functionError"] = function_error
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition.value,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _timestamp(now),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0].sequence_number,
            "endSequenceNumber": records[-1].sequence_number,
            "approximateArrivalOfFirstRecord": _arrival(records[0], now),
            "approximateArrivalOfLastRecord": _arrival(records[-1], now),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


class FailureDestination(Protocol):
    """Where discarded batches are reported (an SQS queue in the deployment)."""

    def send(self, message: dict[str, Any]) -> None: ...


class SqsDestination:
    """An SQS queue, as configured with DestinationConfig.OnFailure."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def send(self, message: dict[str, Any]) -> None:
        self._client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))


class NoDestination:
    """No on-failure destination: Lambda drops the records silently (they are still counted)."""

    def send(self, message: dict[str, Any]) -> None:
        return None
