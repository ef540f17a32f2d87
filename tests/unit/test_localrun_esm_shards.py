"""Parent shards before their children.

moto's streams always have a single shard, so a shard split cannot be produced there. The ordering
rule is tested as a pure function, and the runner is driven over a small in-memory stream with a
closed parent and its open child (the only hand-written stand-in for an AWS API in these tests).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from localrun.esm import CheckpointStore, EventSourceMapping, MappingSettings
from localrun.esm.shards import ShardInfo, ready_shards
from localrun.invoke.capture import OutputRouter
from localrun.invoke.function import Function
from tests.support.esm import Recorder
from tests.support.events import STREAM_ARN, raw_record


def test_a_child_waits_for_its_parent_to_finish():
    shards = [ShardInfo("child", "parent", False), ShardInfo("parent", None, True)]
    assert ready_shards(shards, finished=set()) == ["parent"]
    assert ready_shards(shards, finished={"parent"}) == ["child"]


def test_a_child_whose_parent_was_trimmed_starts_at_once():
    assert ready_shards([ShardInfo("child", "gone", False)], finished=set()) == ["child"]


def _raw(seq: int) -> dict[str, Any]:
    return raw_record(
        f"{seq:021d}", "INSERT", keys={"user_id": {"S": f"u{seq}"}}, created_at=dt.datetime.now(dt.UTC)
    )


class SplitStream:
    """DescribeStream/GetShardIterator/GetRecords over a parent shard (closed) and its child."""

    def __init__(self) -> None:
        self.records = {"parent": [_raw(1), _raw(2), _raw(3)], "child": [_raw(4), _raw(5)]}
        self.closed = {"parent"}

    def describe_stream(self, **kwargs: Any) -> dict[str, Any]:
        def shard(shard_id: str, parent: str | None) -> dict[str, Any]:
            numbers = {"StartingSequenceNumber": "1"}
            if shard_id in self.closed:
                numbers["EndingSequenceNumber"] = "3"
            entry: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": numbers}
            if parent:
                entry["ParentShardId"] = parent
            return entry

        # The child is listed first: the order must come from the parent link, not the listing.
        return {"StreamDescription": {"Shards": [shard("child", "parent"), shard("parent", None)]}}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        after = int(kwargs.get("SequenceNumber", "0"))
        return {"ShardIterator": f"{kwargs['ShardId']}:{after}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard_id, after = ShardIterator.split(":")
        rest = [r for r in self.records[shard_id] if int(r["dynamodb"]["SequenceNumber"]) > int(after)][
            :Limit
        ]
        last = int(rest[-1]["dynamodb"]["SequenceNumber"]) if rest else int(after)
        page: dict[str, Any] = {"Records": rest}
        if shard_id not in self.closed or rest:
            page["NextShardIterator"] = f"{shard_id}:{last}"
        return page


def test_the_runner_finishes_a_parent_shard_before_reading_its_child():
    # GIVEN a stream whose parent shard is closed and whose child already has records
    handler = Recorder()
    checkpoints = CheckpointStore()
    mapping = EventSourceMapping(
        function=Function("Users-replicator", handler),
        stream_arn=STREAM_ARN,
        streams=SplitStream(),  # type: ignore[arg-type]
        settings=MappingSettings(batch_size=2, poll_interval_seconds=0),
        router=OutputRouter(),
        checkpoints=checkpoints,
    )
    # WHEN it runs
    for _ in range(10):
        mapping.tick()
    # THEN every parent record was delivered before any child record, and the parent is finished
    order = [int(seq) for batch in handler.batches for seq in batch]
    assert order == [1, 2, 3, 4, 5]
    assert [len(batch) for batch in handler.batches] == [2, 1, 2]  # a batch never mixes shards
    assert checkpoints.finished(mapping.key, "parent")
    assert not checkpoints.finished(mapping.key, "child")
    assert checkpoints.position(mapping.key, "child") == f"{5:021d}"
