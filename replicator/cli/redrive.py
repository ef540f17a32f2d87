"""Redrive: replay the batches named in the failure destination through the replicator's own logic.

For each message: parse the batch's position (:mod:`replicator.cli.failure_message`), read that
sequence-number range of the shard again (``AT_SEQUENCE_NUMBER``), shape the records exactly as
Lambda does (:func:`ddbstream.lambda_event.lambda_event`) and hand them to
:meth:`replicator.handler.Replicator.process`. The replicator's conditional writes make this safe
whatever happened since: records older than what the replica holds are skipped as stale, a replayed
insert cannot resurrect a key deleted later. A message is deleted only when every one of its
records was applied (or found already applied or stale); otherwise it is kept and the error classes
of the replicator's typed batch report are reported.

A range no longer in the stream (TrimmedDataAccessException, the stream gone, or the first record
found beyond the range's start) is *aged out*: its keys can no longer be read from the stream, so the
caller runs a check and repair of the table and reports the keys it fixed.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ddbstream.lambda_event import lambda_event
from replicator.cli import failure_message
from replicator.cli.errors import UnknownFailureMessage
from replicator.cli.failure_message import BatchInfo
from replicator.cli.results import MessageResult, Verdict
from replicator.core.errors import ReplicatorError
from replicator.handler import Replicator

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

AGED_OUT_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})
# An open shard may answer empty pages before the records it holds; give up after this many in a row.
MAX_EMPTY_PAGES = 30
CHUNK = 500  # records per replicator call: well inside its 60 s deadline
HOLD_SECONDS = 11 * 3600  # hides aged-out messages while repairing (SQS allows 12 h from receipt)


class RangeStatus(enum.Enum):
    COMPLETE = "complete"
    AGED_OUT = "aged_out"
    INCOMPLETE = "incomplete"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def read_range(
    streams: DynamoDBStreamsClient, info: BatchInfo, pace: Callable[[], None] = lambda: None
) -> tuple[RangeStatus, list[dict[str, Any]]]:
    """The records ``info`` names, in stream order, with whether the whole range was found.

    ``pace`` runs before every GetRecords call (a third reader of the stream paces its reads).
    """
    records: list[dict[str, Any]] = []

    def iterator_after(last: str | None) -> str:
        response: Any = streams.get_shard_iterator(
            StreamArn=info.stream_arn,
            ShardId=info.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER" if last is None else "AFTER_SEQUENCE_NUMBER",
            SequenceNumber=info.start_sequence_number if last is None else last,
        )
        return str(response["ShardIterator"])

    try:
        iterator: str | None = iterator_after(None)
        empty = 0
        while iterator:
            try:
                pace()
                page: Any = streams.get_records(ShardIterator=iterator, Limit=1000)
            except ClientError as exc:
                if _code(exc) != "ExpiredIteratorException":
                    raise
                last = records[-1]["dynamodb"]["SequenceNumber"] if records else None
                iterator = iterator_after(last)
                continue
            for record in page["Records"]:
                sequence = int(record["dynamodb"]["SequenceNumber"])
                if not records and sequence > info.start:
                    return RangeStatus.AGED_OUT, []  # the first record asked for is gone
                if sequence > info.end:
                    return RangeStatus.COMPLETE, records
                records.append(record)
                if sequence == info.end:
                    return RangeStatus.COMPLETE, records
            empty = 0 if page["Records"] else empty + 1
            if empty > MAX_EMPTY_PAGES:
                break
            iterator = page.get("NextShardIterator")
    except ClientError as exc:
        if _code(exc) in AGED_OUT_CODES:
            return RangeStatus.AGED_OUT, []
        raise
    return RangeStatus.INCOMPLETE, records


@dataclass
class Redriver:
    sqs: SQSClient
    queue_url: str
    streams: DynamoDBStreamsClient
    replicator: Replicator
    source_table: str
    visibility_timeout: int = 300
    max_messages: int | None = None
    wait_seconds: int = 2  # long polling: an empty answer then means the queue is really empty
    pace: Callable[[], None] = lambda: None
    """Runs before each GetRecords call: paced when redrive reads as a third reader."""

    def messages(self) -> Iterator[dict[str, Any]]:
        """Every message visible now, each once (received ones stay hidden while this run lasts)."""
        taken = 0
        while self.max_messages is None or taken < self.max_messages:
            want = 10 if self.max_messages is None else min(10, self.max_messages - taken)
            response: Any = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=want,
                VisibilityTimeout=self.visibility_timeout,
                WaitTimeSeconds=self.wait_seconds,
            )
            batch = response.get("Messages", [])
            if not batch:
                return
            for message in batch:
                taken += 1
                yield message

    def handle(self, message: dict[str, Any]) -> MessageResult:
        result = MessageResult(
            str(message.get("MessageId", "")), str(message["ReceiptHandle"]), Verdict.UNKNOWN
        )
        try:
            info = failure_message.parse(str(message.get("Body", "")))
        except UnknownFailureMessage as exc:
            result.detail = str(exc)
            return result
        result.info = info
        if info.table_name != self.source_table:
            result.verdict = Verdict.OTHER_TABLE
            result.detail = f"the batch is from the stream of table {info.table_name!r}"
            return result
        status, records = read_range(self.streams, info, self.pace)
        result.records = len(records)
        if status is RangeStatus.AGED_OUT:
            result.verdict = Verdict.AGED_OUT
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=result.receipt_handle, VisibilityTimeout=HOLD_SECONDS
            )
            return result
        result.errors = self._apply(records, info.stream_arn)
        if result.errors:
            result.verdict = Verdict.FAILED
        elif status is RangeStatus.INCOMPLETE:
            result.verdict = Verdict.INCOMPLETE
            result.detail = "the stream did not reach the range's end sequence number"
        else:
            result.verdict = Verdict.APPLIED
            self.delete(result)
        return result

    def _apply(self, records: list[dict[str, Any]], stream_arn: str) -> Counter[str]:
        errors: Counter[str] = Counter()
        for start in range(0, len(records), CHUNK):
            event = lambda_event(records[start : start + CHUNK], stream_arn=stream_arn)
            try:
                processed = self.replicator.process(event, None)
                processed.response()  # raises where Lambda would fail the whole invocation
            except ReplicatorError as exc:
                errors[type(exc).__name__] += 1
                continue
            errors.update(failure.error_class for failure in processed.report.failures)
        return errors

    def delete(self, result: MessageResult) -> None:
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=result.receipt_handle)

    def release(self, result: MessageResult) -> None:
        """Make a kept message visible again at once (after a failed repair of an aged-out range)."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=result.receipt_handle, VisibilityTimeout=0
        )


def queue_region(queue: str, default: str) -> str:
    """The region in a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), else ``default``."""
    if queue.startswith("https://sqs."):
        return queue.split(".")[1]
    return default
