"""Parse what Lambda sends to a DynamoDB stream event source's on-failure destination. Pure.

Lambda does not send the records: it sends an invocation record naming where they are::

    {"requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3, ...},
     "responseContext": {...}, "version": "1.0", "timestamp": "...",
     "DDBStreamBatchInfo": {"shardId": "shardId-...", "startSequenceNumber": "...",
                            "endSequenceNumber": "...", "approximateArrivalOfFirstRecord": "...",
                            "approximateArrivalOfLastRecord": "...", "batchSize": 1,
                            "streamArn": "arn:aws:dynamodb:...:table/T/stream/..."}}

(AWS Lambda Developer Guide, "Retaining discarded records for a DynamoDB event source"). Through an
SNS topic the same document arrives as the ``Message`` of an SNS notification; both are accepted.
With partial batch responses the range starts at the first failed record and ends at the batch's
last one, so it may include records that were applied: replaying those is harmless.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ddbstream.names import is_stream_arn, table_name_from_arn
from replicator.cli.errors import UnknownFailureMessage

_SEQUENCE = re.compile(r"^\d{1,40}$")


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """Where a failed batch lies in the stream."""

    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    stream_arn: str
    batch_size: int | None
    condition: str | None

    @property
    def start(self) -> int:
        return int(self.start_sequence_number)

    @property
    def end(self) -> int:
        return int(self.end_sequence_number)

    @property
    def table_name(self) -> str:
        return table_name_from_arn(self.stream_arn) or ""


def _document(body: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (TypeError, ValueError):
        raise UnknownFailureMessage("the message body is not JSON") from None
    if not isinstance(document, dict):
        raise UnknownFailureMessage("the message body is not a JSON object")
    if document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
        return _document(document["Message"])  # delivered through an SNS topic
    return document


def parse(body: str) -> BatchInfo:
    """The batch a failure-destination message names; UnknownFailureMessage says what is wrong."""
    document = _document(body)
    info = document.get("DDBStreamBatchInfo")
    if not isinstance(info, dict):
        kinds = [key for key in document if key.endswith("BatchInfo")]
        found = f" (it has {kinds[0]}: another kind of event source)" if kinds else ""
        raise UnknownFailureMessage(f"the message has no DDBStreamBatchInfo{found}")
    fields = {}
    for name in ("shardId", "startSequenceNumber", "endSequenceNumber", "streamArn"):
        value = info.get(name)
        if not isinstance(value, str) or not value:
            raise UnknownFailureMessage(f"DDBStreamBatchInfo.{name} is missing or not text")
        fields[name] = value
    for name in ("startSequenceNumber", "endSequenceNumber"):
        if not _SEQUENCE.match(fields[name]):
            raise UnknownFailureMessage(f"DDBStreamBatchInfo.{name} is not a sequence number")
    if int(fields["startSequenceNumber"]) > int(fields["endSequenceNumber"]):
        raise UnknownFailureMessage("DDBStreamBatchInfo's range starts after it ends")
    if not is_stream_arn(fields["streamArn"]):
        raise UnknownFailureMessage("DDBStreamBatchInfo.streamArn is not a DynamoDB stream ARN")
    size = info.get("batchSize")
    context = document.get("requestContext")
    condition = context.get("condition") if isinstance(context, dict) else None
    return BatchInfo(
        shard_id=fields["shardId"],
        start_sequence_number=fields["startSequenceNumber"],
        end_sequence_number=fields["endSequenceNumber"],
        stream_arn=fields["streamArn"],
        batch_size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        condition=condition if isinstance(condition, str) else None,
    )
