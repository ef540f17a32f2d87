"""Virtual shards, pure: which shard a key goes to, lineage and splits, the low-water mark, and a
shard's end closing its tumbling window early."""

from __future__ import annotations

from typing import Any

import pytest

from localrun.esm.lineage import ShardLayout, ShardLayoutError
from localrun.esm.lowwater import LowWater
from localrun.esm.partition import HASH_SPACE, key_position, partition_keys, record_position
from localrun.esm.processor import ShardProcessor
from localrun.esm.settings import MappingSettings
from localrun.invoke.function import Function, Invocation
from tests.support.esm import record
from tests.support.events import STREAM_ARN, key

SOURCE = "shardId-00000001700000000000-abcdef12"


def _keys(count: int) -> list[dict[str, dict[str, str]]]:
    return [key(f"user-{i}", i) for i in range(count)]


# --- partitioning ----------------------------------------------------------------------------


def test_a_keys_position_is_stable_across_runs_and_processes():
    # GIVEN the key hash the project already uses (ddbstream.key_hash: SHA-256 of the canonical key)
    # THEN a key's position is this number, whatever the process (Python's hash() is salted per process)
    assert key_position({"user_id": {"S": "user-1"}}) == 0x491F2C47F2B964951738D96344044A4B
    assert 0 <= key_position(key("user-2", 7)) < HASH_SPACE


def test_the_partition_key_alone_places_every_item_of_a_user_together():
    # GIVEN two items of one user (same partition key, different sort keys)
    first, second = key("user-1", 1), key("user-1", 2)
    # THEN with the partition key named they share a position; hashing the whole key separates them
    assert key_position(first, "user_id") == key_position(second, "user_id")
    assert key_position(first) != key_position(second)
    assert partition_keys(first, "user_id") == {"user_id": {"S": "user-1"}}
    assert partition_keys(first, "not-a-key") == first


def test_binary_keys_hash_the_same_as_bytes_and_as_base64_text():
    assert key_position({"id": {"B": b"\x00\x01"}}) == key_position({"id": {"B": "AAE="}})


def test_a_record_is_placed_by_the_keys_of_its_lambda_event():
    pending = record(1)
    assert record_position(pending.event, "user_id") == key_position({"user_id": {"S": "u1"}})
    assert record_position({"dynamodb": {}}) == 0


def test_four_shards_each_take_a_share_of_many_keys():
    layout = ShardLayout.even(SOURCE, 4)
    counts = {shard_id: 0 for shard_id in layout.ids}
    for keys in _keys(1000):
        counts[layout.route(key_position(keys), 1)] += 1
    # SHA-256 spreads keys evenly: each quarter of the hash space gets roughly a quarter of them
    assert all(150 < count < 350 for count in counts.values()), counts


def test_routing_keeps_each_keys_records_in_one_shard_in_stream_order():
    # GIVEN a stream of records where each of 20 keys changes 10 times, interleaved
    layout = ShardLayout.even(SOURCE, 4)
    stream = [(seq, f"user-{seq % 20}") for seq in range(1, 201)]
    # WHEN each record is routed, in stream order, to its shard's queue
    queues: dict[str, list[tuple[int, str]]] = {shard_id: [] for shard_id in layout.ids}
    for seq, user in stream:
        queues[layout.route(key_position({"user_id": {"S": user}}), seq)].append((seq, user))
    # THEN every key is in exactly one queue, and each queue is in stream order
    homes = {user: [s for s, q in queues.items() if any(u == user for _, u in q)] for _, user in stream}
    assert all(len(shards) == 1 for shards in homes.values())
    assert all(q == sorted(q) for q in queues.values())
    assert sum(len(q) for q in queues.values()) == 200


# --- layouts and lineage -----------------------------------------------------------------------


def test_one_virtual_shard_is_the_stream_shard_itself():
    layout = ShardLayout.even(SOURCE, 1)
    assert layout.ids == [SOURCE] and layout.single
    assert layout.route(12345, 1) == SOURCE
    with pytest.raises(ShardLayoutError, match="stream's own shard"):
        layout.split(SOURCE, after=1)


def test_even_shards_cover_the_hash_space_without_gaps():
    layout = ShardLayout.even(SOURCE, 4)
    assert layout.ids == [f"{SOURCE}/4.{i}" for i in range(4)]
    bounds = [(s.low, s.high) for s in layout.shards]
    assert bounds[0][0] == 0 and bounds[-1][1] == HASH_SPACE
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(3))
    assert all(s.parent_id is None and not s.closed for s in layout.shards)
    with pytest.raises(ShardLayoutError, match="at least one virtual shard"):
        ShardLayout.even(SOURCE, 0)


def test_a_split_closes_the_parent_and_gives_each_child_half_its_range():
    layout = ShardLayout.even(SOURCE, 4)
    parent = f"{SOURCE}/4.1"
    split = layout.split(parent, after=50)
    low, high = split.children(parent)
    assert (low.shard_id, high.shard_id) == (f"{parent}.0", f"{parent}.1")
    assert (low.parent_id, high.parent_id) == (parent, parent)
    shard = split.shard(parent)
    assert shard.closed and shard.split_after == 50
    assert (low.low, low.high, high.low, high.high) == (shard.low, low.high, low.high, shard.high)
    assert [s.shard_id for s in split.open] == [
        f"{SOURCE}/4.0",
        f"{SOURCE}/4.2",
        f"{SOURCE}/4.3",
        *[low.shard_id, high.shard_id],
    ]
    # the layout it came from is unchanged (layouts are values)
    assert not layout.shard(parent).closed


@pytest.mark.parametrize(
    ("shard_id", "message"),
    [
        pytest.param("nope", "no virtual shard 'nope'", id="unknown"),
        pytest.param(f"{SOURCE}/4.1", "already split", id="already-split"),
    ],
)
def test_a_split_that_cannot_be_made_says_why(shard_id, message):
    layout = ShardLayout.even(SOURCE, 4).split(f"{SOURCE}/4.1", after=5)
    with pytest.raises(ShardLayoutError, match=message):
        layout.split(shard_id, after=9)


def test_records_up_to_the_split_point_stay_with_the_parent_later_ones_go_to_one_child():
    # GIVEN a key of shard 4.2, split after sequence number 10
    layout = ShardLayout.even(SOURCE, 4)
    user = next(k for k in _keys(100) if layout.route(key_position(k), 1) == f"{SOURCE}/4.2")
    position = key_position(user)
    split = layout.split(f"{SOURCE}/4.2", after=10)
    # THEN its records at or before 10 are the parent's, and every later one the same child's
    assert [split.route(position, seq) for seq in (1, 10)] == [f"{SOURCE}/4.2"] * 2
    later = {split.route(position, seq) for seq in (11, 12, 500)}
    assert len(later) == 1 and later <= {f"{SOURCE}/4.2.0", f"{SOURCE}/4.2.1"}


def test_a_child_is_ready_only_once_its_parent_has_finished():
    parent = f"{SOURCE}/4.0"
    layout = ShardLayout.even(SOURCE, 4).split(parent, after=3)
    children = [f"{parent}.0", f"{parent}.1"]
    assert layout.ready(finished=set()) == [parent, f"{SOURCE}/4.1", f"{SOURCE}/4.2", f"{SOURCE}/4.3"]
    assert layout.ready(finished={parent}) == [f"{SOURCE}/4.1", f"{SOURCE}/4.2", f"{SOURCE}/4.3", *children]


def test_a_layout_is_rebuilt_from_its_recorded_split_points():
    # GIVEN a shard split twice (a child split again), and the split points a checkpoint store keeps
    parent = f"{SOURCE}/4.3"
    layout = ShardLayout.even(SOURCE, 4).split(parent, after=7).split(f"{parent}.1", after=20)
    recorded = {s.shard_id: s.split_after for s in layout.shards if s.split_after is not None}
    # WHEN the layout is rebuilt (with a split of another stream shard's virtual shard in the store)
    rebuilt = ShardLayout.rebuild(SOURCE, 4, {**recorded, "shardId-other/4.0": 3})
    # THEN it is the same layout
    assert rebuilt == layout
    assert rebuilt.ids[-2:] == [f"{parent}.1.0", f"{parent}.1.1"]


# --- the low-water mark ------------------------------------------------------------------------


def test_the_low_water_mark_waits_for_the_earliest_record_not_done():
    # GIVEN records 1..4 read for shards a, b, a, b
    water = LowWater()
    for seq, shard in ((1, "a"), (2, "b"), (3, "a"), (4, "b")):
        assert water.read(shard, seq, f"{seq:03d}")
    assert (water.mark, water.outstanding) == (None, 4)
    # WHEN shard a is done with 1 and 3
    assert water.done("a", 3) == "001"
    # THEN the mark passes 1 only: 2 (shard b) is not done
    assert water.mark == "001"
    # AND once b is done with 2 the mark jumps over 3 too
    assert water.done("b", 2) == "003"
    assert water.done("b", 2) is None  # no move, no news
    assert water.outstanding == 1


def test_records_a_shard_had_done_before_a_restart_are_skipped():
    water = LowWater({"a": 5})
    assert not water.read("a", 4, "004")  # done before the restart
    assert water.read("b", 5, "005")
    assert water.mark == "004"


def test_a_finished_shard_counts_as_done_with_everything():
    water = LowWater()
    water.read("a", 1, "001")
    assert water.finish("a") == "001"
    assert not water.read("a", 9, "009")


# --- a shard's end closes its window -----------------------------------------------------------


class Windowed:
    """A tumbling-window function that counts records in its state, and a processor over it."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.checkpoints: list[str] = []
        self.processor = ShardProcessor(
            function=Function("Users-usage-metrics", lambda e, c: None),
            shard_id=f"{SOURCE}/4.0",
            source_shard_id=SOURCE,
            stream_arn=STREAM_ARN,
            settings=MappingSettings(tumbling_window_seconds=60, poll_interval_seconds=0),
            invoker=self.invoke,
            destination=None,  # type: ignore[arg-type]
            on_checkpoint=self.checkpoints.append,
            observer=_Quiet(),
        )

    def invoke(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        count = event["state"].get("n", 0) + len(event["Records"])
        return Invocation(f"req-{len(self.events)}", {"state": {"n": count}}, None, None, 1.0)


class _Quiet:
    def invoked(self, *args: object, **kwargs: object) -> None:
        return None

    def discarded(self, *args: object, **kwargs: object) -> None:
        return None


def test_a_shard_that_ends_mid_window_closes_it_early_and_finishes():
    # GIVEN a window of [1_700_000_040, 1_700_000_100) with two records processed, checkpoint held
    shard = Windowed()
    start = 1_700_000_040
    shard.processor.offer([record(1, start + 1), record(2, start + 2)], now=start + 3)
    assert shard.processor.step(start + 3)
    assert shard.checkpoints == []
    # WHEN the shard ends (split) long before the window's end
    shard.processor.end()
    assert shard.processor.busy  # the window is still open
    while shard.processor.step(start + 10, read_through=start + 10):
        pass
    # THEN one final invoke closes the window early with its state, and the checkpoint moves
    final = shard.events[-1]
    assert (final["Records"], final["isFinalInvokeForWindow"], final["isWindowTerminatedEarly"]) == (
        [],
        True,
        True,
    )
    assert final["state"] == {"n": 2} and final["shardId"] == f"{SOURCE}/4.0"
    assert shard.checkpoints == [f"{2:021d}"]
    assert shard.processor.finished and shard.processor.window is None


def test_a_shard_that_ends_after_its_windows_end_closes_it_normally():
    shard = Windowed()
    start = 1_700_000_040
    shard.processor.offer([record(1, start + 1)], now=start + 2)
    shard.processor.step(start + 2)
    shard.processor.end()
    # the window's end has passed (though no poll has confirmed it yet): not terminated early
    while shard.processor.step(start + 61):
        pass
    final = shard.events[-1]
    assert (final["isFinalInvokeForWindow"], final["isWindowTerminatedEarly"]) == (True, False)
    assert shard.processor.finished


def test_a_failure_message_names_the_stream_shard_the_records_can_be_read_from():
    # GIVEN a virtual shard whose function always fails, with no retries
    messages: list[dict[str, Any]] = []

    class Destination:
        def send(self, message: dict[str, Any]) -> None:
            messages.append(message)

    processor = ShardProcessor(
        function=Function("Users-replicator", lambda e, c: None),
        shard_id=f"{SOURCE}/4.3",
        source_shard_id=SOURCE,
        stream_arn=STREAM_ARN,
        settings=MappingSettings(max_retry_attempts=0, poll_interval_seconds=0),
        invoker=lambda event: Invocation("req-1", None, "ValueError", "down", 1.0),
        destination=Destination(),
        on_checkpoint=lambda seq: None,
        observer=_Quiet(),
    )
    processor.offer([record(7)], now=1_700_000_001)
    # WHEN it gives up on the record
    while processor.step(1_700_000_001):
        pass
    # THEN the message names the stream's shard (redrive reads the range again from there)
    (message,) = messages
    assert message["DDBStreamBatchInfo"]["shardId"] == SOURCE
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == f"{7:021d}"
