"""Shards of a DynamoDB stream: discovery, the parent-before-child order, and reading one shard."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from localrun.esm.settings import StartingPosition

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShardInfo:
    shard_id: str
    parent_id: str | None
    closed: bool
    """The shard has an ending sequence number: no new records will be added to it."""


def list_shards(client: DynamoDBStreamsClient, stream_arn: str) -> list[ShardInfo]:
    """Every shard DescribeStream reports, following its pagination."""
    shards: list[ShardInfo] = []
    start: str | None = None
    while True:
        kwargs: dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        description = client.describe_stream(**kwargs)["StreamDescription"]
        for shard in description.get("Shards", []):
            shards.append(
                ShardInfo(
                    shard_id=shard["ShardId"],
                    parent_id=shard.get("ParentShardId"),
                    closed="EndingSequenceNumber" in shard.get("SequenceNumberRange", {}),
                )
            )
        start = description.get("LastEvaluatedShardId")
        if not start:
            return shards


def ready_shards(shards: Sequence[ShardInfo], finished: Collection[str]) -> list[str]:
    """Shards that may be processed now: not finished, and whose parent is finished or gone.

    DynamoDB Streams keeps a key's changes in order across a split only if a child is read after
    its parent is exhausted. A parent that is no longer listed has been trimmed (older than 24 h),
    so nothing of it is left to wait for.
    """
    known = {shard.shard_id for shard in shards}
    return [
        shard.shard_id
        for shard in shards
        if shard.shard_id not in finished
        and (shard.parent_id is None or shard.parent_id not in known or shard.parent_id in finished)
    ]


@dataclass(frozen=True, slots=True)
class ReadResult:
    records: list[dict[str, Any]]
    ended: bool
    """The shard is closed and every record in it has been returned."""


class ShardReader:
    """GetRecords on one shard from a position, re-acquiring the iterator when it expires."""

    def __init__(
        self,
        client: DynamoDBStreamsClient,
        stream_arn: str,
        shard_id: str,
        *,
        after: str | None,
        start: StartingPosition,
    ) -> None:
        self._client = client
        self.stream_arn = stream_arn
        self.shard_id = shard_id
        self._last_read = after
        self._start = start
        self._iterator: str | None = None
        self.ended = False

    def _acquire(self) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard_id}
        if self._last_read is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self._last_read)
        else:
            kwargs["ShardIteratorType"] = self._start.value
        return self._client.get_shard_iterator(**kwargs)["ShardIterator"]

    def read(self, limit: int = 1000) -> ReadResult:
        if self.ended:
            return ReadResult([], True)
        for _ in range(3):
            if self._iterator is None:
                self._iterator = self._acquire()
            try:
                page = self._client.get_records(ShardIterator=self._iterator, Limit=limit)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "ExpiredIteratorException":
                    self._iterator = None  # iterators live 15 minutes; resume from the last record read
                    continue
                if code == "TrimmedDataAccessException":
                    log.error(
                        "%s: records past the 24 h retention were trimmed; resuming at TRIM_HORIZON",
                        self.shard_id,
                    )
                    self._last_read, self._start, self._iterator = None, StartingPosition.TRIM_HORIZON, None
                    continue
                raise
            records: list[dict[str, Any]] = [dict(record) for record in page.get("Records", [])]
            if records:
                self._last_read = str(records[-1]["dynamodb"]["SequenceNumber"])
            # The stubs call NextShardIterator required; DynamoDB omits it once a closed shard is read.
            following: str | None = page.get("NextShardIterator") or None
            self._iterator = following
            if following is None:
                self.ended = True
            return ReadResult(records, self.ended)
        raise RuntimeError(f"{self.shard_id}: could not obtain a usable shard iterator")
