"""Four virtual shards over moto's single-shard stream: order, concurrency, checkpoints, windows, a
split in the middle of a window, a restart after a split, and the replicator converging on them."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from localrun.esm import CheckpointStore, EventSourceMapping, MappingSettings, StreamRunner
from localrun.esm.partition import record_position
from localrun.invoke.capture import OutputRouter
from tests.support.aws import Regions, put_items
from tests.support.esm import Recorder
from tests.support.mapping import drive
from tests.support.replication import Harness

SHARDS = 4


def windowed(**settings: Any) -> MappingSettings:
    """A 15-minute tumbling window: no window ends unless a test moves the clock or splits a shard."""
    return MappingSettings(poll_interval_seconds=0, tumbling_window_seconds=900, **settings)


def counting(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A tumbling-window function that counts its window's records in its state."""
    return {"state": {"n": event["state"].get("n", 0) + len(event["Records"])}}


def _source(mapping: EventSourceMapping) -> str:
    (source,) = mapping.layouts
    return source


def _shard_of(mapping: EventSourceMapping, record: dict[str, Any]) -> str:
    """The virtual shard a record belongs to, by the mapping's own layout."""
    layout = mapping.layouts[_source(mapping)]
    return layout.route(record_position(record, "user_id"), int(record["dynamodb"]["SequenceNumber"]))


def _by_shard(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    shards: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        shards[event["shardId"]].append(event)
    return shards


def _sequences(events: list[dict[str, Any]]) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for event in events for r in event["Records"]]


def test_four_virtual_shards_each_deliver_their_own_records_in_order_and_run_concurrently(
    regions, make_mapping, clock
):
    # GIVEN 40 users' items on moto's stream, and a function whose first invocation on each shard
    # waits for the first invocation of all four: it can only return if the shards run side by side
    put_items(regions, 40)
    written = regions.tap.read()
    barrier = threading.Barrier(SHARDS, timeout=10)
    first_seen: set[str] = set()
    lock = threading.Lock()

    def respond(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            first = event["shardId"] not in first_seen
            first_seen.add(event["shardId"])
        if first and event["Records"]:
            barrier.wait()
        return counting(event, context)

    handler = Recorder(respond)
    mapping = make_mapping(
        handler, settings=windowed(batch_size=3), shards=SHARDS, partition_key="user_id", timeout=15
    )
    # WHEN the mapping runs
    drive(mapping, 10)
    # THEN the four first invocations met: the shards ran concurrently
    assert not barrier.broken
    source = _source(mapping)
    assert mapping.shards == [f"{source}/4.{i}" for i in range(SHARDS)]
    shards = _by_shard(handler.events)
    assert set(shards) == set(mapping.shards)
    # AND each shard got only its own records, in stream order, in batches of at most 3
    for shard_id, events in shards.items():
        sequences = _sequences(events)
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
        assert all(_shard_of(mapping, r) == shard_id for e in events for r in e["Records"])
        assert all(len(e["Records"]) <= 3 for e in events)
        # AND its window state is its own: each invoke carries the count of the shard's records before it
        before = 0
        for event in events:
            assert event["state"] == ({"n": before} if before else {})
            before += len(event["Records"])
    assert sorted(s for events in shards.values() for s in _sequences(events)) == [
        int(r["dynamodb"]["SequenceNumber"]) for r in written
    ]
    # AND no checkpoint moves while the windows are open
    assert all(mapping.checkpoints.position(mapping.key, shard_id) is None for shard_id in shards)
    # WHEN the windows end
    clock.advance(900)
    drive(mapping, 3)
    # THEN each shard closes its own window with its own count, and checkpoints its last record
    for shard_id, events in _by_shard(handler.events).items():
        final = events[-1]
        assert (final["isFinalInvokeForWindow"], final["isWindowTerminatedEarly"]) == (True, False)
        assert final["state"] == {"n": len(_sequences(events))}
        assert mapping.checkpoints.position(mapping.key, shard_id) == str(max(_sequences(events))).zfill(
            len(written[-1]["dynamodb"]["SequenceNumber"])
        )
    # AND the stream shard's own checkpoint (where a restart reads from) is its last record
    assert mapping.checkpoints.position(mapping.key, source) == written[-1]["dynamodb"]["SequenceNumber"]


def test_a_split_mid_window_ends_the_parents_window_early_and_its_children_start_fresh(regions, make_mapping):
    # GIVEN four windowed virtual shards that have processed 40 users' first writes, and a function
    # that notes, whenever a child of the split shard is invoked, whether its parent had finished
    parent_finished_when_a_child_ran: list[bool] = []
    children: list[str] = []

    def respond(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event["shardId"] in children:
            parent_finished_when_a_child_ran.append(mapping.checkpoints.finished(mapping.key, parent))
        return counting(event, context)

    handler = Recorder(respond)
    mapping = make_mapping(handler, settings=windowed(), shards=SHARDS, partition_key="user_id")
    put_items(regions, 40)
    first = regions.tap.read()
    drive(mapping, 3)
    parent = mapping.shards[1]
    parent_records = [r for r in first if _shard_of(mapping, r) == parent]
    # WHEN that shard is split in the middle of its window, and the same users write again
    children.extend(mapping.split(parent))
    put_items(regions, 40)
    second = regions.tap.read()
    drive(mapping, 10)
    # THEN the parent's window ends early, with its own records' count, before any child runs
    events = handler.events
    parent_events = [e for e in events if e["shardId"] == parent]
    final = parent_events[-1]
    assert (final["Records"], final["isFinalInvokeForWindow"], final["isWindowTerminatedEarly"]) == (
        [],
        True,
        True,
    )
    assert final["state"] == {"n": len(parent_records)}
    child_events = [e for e in events if e["shardId"] in children]
    assert child_events and events.index(final) < events.index(child_events[0])
    assert parent_finished_when_a_child_ran and all(parent_finished_when_a_child_ran)
    # AND each child starts a fresh window: same time window, empty state
    for child in children:
        mine = [e for e in child_events if e["shardId"] == child]
        if mine:
            assert mine[0]["state"] == {} and mine[0]["window"] == final["window"]
    # AND the second writes of the parent's users went to the children, one child per user
    moved = [r for r in second if r["dynamodb"]["Keys"] in [p["dynamodb"]["Keys"] for p in parent_records]]
    assert moved and sorted(_sequences(child_events)) == sorted(
        int(r["dynamodb"]["SequenceNumber"]) for r in moved
    )
    homes: dict[str, set[str]] = defaultdict(set)
    for event in child_events:
        for record in event["Records"]:
            homes[record["dynamodb"]["Keys"]["user_id"]["S"]].add(event["shardId"])
    assert all(len(shards) == 1 for shards in homes.values())
    # AND the other shards' windows are untouched (still open: no final invoke)
    others = [e for e in events if e["shardId"] not in (parent, *children)]
    assert not any(e["isFinalInvokeForWindow"] for e in others)
    # AND the parent is finished with its split recorded; its children are the shards now read
    key = mapping.key
    assert mapping.checkpoints.finished(key, parent)
    assert mapping.checkpoints.splits(key) == {parent: int(first[-1]["dynamodb"]["SequenceNumber"])}
    assert parent not in mapping.shards and set(children) <= set(mapping.shards)
    lineage = mapping.layouts[_source(mapping)]
    assert [c.parent_id for c in lineage.children(parent)] == [parent, parent]


def test_a_restart_after_a_split_resumes_the_children_and_repeats_nothing(regions, make_mapping, tmp_path):
    # GIVEN four virtual shards, checkpointed to a file, that processed 20 writes and then split one
    # shard, and 20 more writes not yet read
    path = tmp_path / "checkpoints.json"
    first = Recorder()
    mapping = make_mapping(first, shards=SHARDS, partition_key="user_id", checkpoints=CheckpointStore(path))
    put_items(regions, 20)
    drive(mapping, 3)
    parent = mapping.shards[2]
    children = mapping.split(parent)
    put_items(regions, 20, start=20)
    fresh = regions.tap.read()[20:]
    # WHEN a new mapping starts from the file
    second = Recorder()
    restarted = make_mapping(
        second, shards=SHARDS, partition_key="user_id", checkpoints=CheckpointStore(path)
    )
    drive(restarted, 10)
    # THEN it rebuilt the split, delivered exactly the 20 new records once, and the parent's share
    # of them through its children
    assert restarted.layouts[_source(restarted)] == mapping.layouts[_source(mapping)]
    delivered = sorted(int(seq) for batch in second.batches for seq in batch)
    assert delivered == [int(r["dynamodb"]["SequenceNumber"]) for r in fresh]
    assert restarted.checkpoints.finished(restarted.key, parent)
    assert {_shard_of(restarted, r) for r in fresh if _shard_of(mapping, r) in children} <= set(children)


def test_the_runners_threads_catch_up_on_four_shards_and_split_both_mappings_alike(regions, make_mapping):
    # GIVEN two mappings on the same four virtual shards, one with one-second windows, run by the
    # runner's own threads (the demo's way: nothing waits for a round to end)
    router = OutputRouter()
    plain, counted = Recorder(), Recorder(counting)
    mappings = [
        make_mapping(
            handler,
            settings=MappingSettings(poll_interval_seconds=0.05, tumbling_window_seconds=window),
            shards=SHARDS,
            partition_key="user_id",
            router=router,
        )
        for handler, window in ((plain, 0), (counted, 1))
    ]
    with StreamRunner(mappings, router).running() as runner:
        put_items(regions, 20)
        # WHEN both have caught up, the runner splits a shard, and more writes come
        assert runner.wait_caught_up(timeout=60)
        parent = mappings[0].shards[0]
        children = runner.split(parent)
        put_items(regions, 20, start=20)
        # THEN both catch up again (every window closed)
        assert runner.wait_caught_up(timeout=60)
    # AND each delivered every record once
    written = sorted(int(r["dynamodb"]["SequenceNumber"]) for r in regions.tap.read())
    assert sorted(int(seq) for batch in plain.batches for seq in batch) == written
    assert sorted(_sequences(counted.events)) == written
    # AND both split the same shard at the same point, and finished it
    points = [m.checkpoints.splits(m.key) for m in mappings]
    assert points[0] == points[1] and set(points[0]) == {parent}
    assert all(m.checkpoints.finished(m.key, parent) for m in mappings)
    assert all(set(children) <= set(m.shards) for m in mappings)


def _write_history(regions: Regions, users: int, rounds: int, offset: int) -> None:
    """Each user: put, update, sometimes delete, round after round (so each key changes many times)."""
    table = regions.config.table_name
    for round_ in range(rounds):
        for i in range(users):
            keys = {"user_id": {"S": f"user-{i}"}, "timestamp": {"N": "1"}}
            value = str(offset + round_ * users + i)
            if (i + round_) % 5 == 4:
                regions.source.delete_item(TableName=table, Key=keys)
                continue
            regions.source.put_item(TableName=table, Item={**keys, "plan": {"S": "free"}, "n": {"N": value}})
            regions.source.update_item(
                TableName=table,
                Key=keys,
                UpdateExpression="SET #p = :p",
                ExpressionAttributeNames={"#p": "plan"},
                ExpressionAttributeValues={":p": {"S": f"pro-{value}"}},
            )


def test_the_replicator_on_four_virtual_shards_and_a_split_converges(regions, make_mapping):
    # GIVEN the replicator on four virtual shards, as the demo runs it
    harness = Harness(regions)
    settings = MappingSettings(
        poll_interval_seconds=0, batch_size=10, report_batch_item_failures=True, bisect_on_error=True
    )
    mapping = make_mapping(
        harness.replicator.handle, settings=settings, shards=SHARDS, partition_key="user_id", timeout=30
    )
    # WHEN 20 users change their items again and again, a shard is split halfway, and they go on
    _write_history(regions, users=20, rounds=2, offset=0)
    drive(mapping, 5)
    mapping.split(mapping.shards[0])
    _write_history(regions, users=20, rounds=2, offset=1000)
    drive(mapping, 30)
    # THEN the replica equals the source
    assert harness.replica() == harness.source()
    assert harness.metric_total("RecordsFailed") == 0
