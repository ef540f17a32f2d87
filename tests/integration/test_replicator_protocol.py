"""The write protocol's requests, as DynamoDB sees them: what each change costs and in what order.

The rules are in docs/design.md ("Write rules"); here the requests are recorded at the replica's
client, so a change that adds a transaction, reorders a delete or writes a mark that cannot rise
fails a test. Interleavings with other actors are the state machine's (tests/property).
"""

from __future__ import annotations

from typing import Any

import pytest

from faultlab.faults import FaultInjector, SimulatedCrash
from replicator.adapters.reconcile import Reconciler
from replicator.adapters.writer import ReplicaWriter
from replicator.core import schema
from replicator.core.protocol import ReplicaTables
from tests.support.events import key
from tests.support.replication import Harness

STATE = "Users-replication-state"


class Requests:
    """Every request a client sends, in order: (operation, table)."""

    def __init__(self, client: Any) -> None:
        self.sent: list[tuple[str, str]] = []
        self.units: dict[str, float] = {}
        """Capacity units the answers reported, by operation."""
        client.meta.events.register("before-parameter-build.dynamodb", self._record)
        client.meta.events.register("after-call.dynamodb", self._consumed)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        tables = params.get("TableName") or ",".join(params.get("RequestItems", {})) or "-"
        self.sent.append((model.name, tables))

    def _consumed(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.units[model.name] = self.units.get(model.name, 0.0) + entry.get("CapacityUnits", 0.0)

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.sent]


@pytest.fixture
def harness(regions) -> Harness:
    return Harness(regions)


@pytest.fixture
def requests(harness) -> Requests:
    return Requests(harness.replicator.writer.client)


def put(regions, user: str, ts: int = 1, **attrs: Any) -> None:
    regions.source.put_item(TableName="Users", Item={**key(user, ts), "v": {"N": "1"}, **attrs})


def delete(regions, user: str, ts: int = 1) -> None:
    regions.source.delete_item(TableName="Users", Key=key(user, ts))


def test_inserts_are_one_consistent_tombstone_read_per_batch_and_one_plain_put_each(
    regions, harness, requests
):
    # GIVEN a batch of five new rows
    for ts in range(5):
        put(regions, "ann", ts)
    # WHEN it is replicated
    harness.deliver(regions.tap.read_event())
    # THEN one BatchGetItem read all five tombstones, each row is one PutItem, no transaction
    ops = requests.operations()
    assert ops.count("BatchGetItem") == 1
    assert ops.count("PutItem") == 5
    assert "GetItem" not in ops, "no put reads its tombstone again"
    assert "TransactWriteItems" not in ops
    assert ops.index("BatchGetItem") < ops.index("PutItem"), "the tombstones are read before any put"
    assert harness.replica() == harness.source()


def test_a_modify_of_an_existing_item_is_a_single_put(regions, harness, requests):
    put(regions, "ann")
    harness.deliver(regions.tap.read_event())
    requests.sent.clear()
    regions.source.update_item(
        TableName="Users",
        Key=key("ann"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    harness.deliver(regions.tap.read_event())
    assert [op for op in requests.operations() if op != "UpdateItem"] == ["PutItem"]
    assert harness.replica() == harness.source()


def test_a_remove_writes_its_tombstone_before_it_deletes_the_item(regions, harness, requests):
    put(regions, "ann")
    harness.deliver(regions.tap.read_event())
    requests.sent.clear()
    delete(regions, "ann")
    harness.deliver(regions.tap.read_event())
    writes = [sent for sent in requests.sent if sent[0] in {"PutItem", "DeleteItem"}]
    assert writes == [("PutItem", STATE), ("DeleteItem", "Users")]
    assert harness.replica() == {} and len(harness.tombstones()) == 1


def test_a_crash_between_the_tombstone_and_the_delete_is_finished_by_the_retry(regions, harness):
    # GIVEN an item in the replica, and its delete in the stream
    put(regions, "ann")
    harness.deliver(regions.tap.read_event())
    delete(regions, "ann")
    event = regions.tap.read_event()
    # WHEN the invocation dies right after the tombstone was written (before the item's delete)
    injector = FaultInjector(harness.replicator.writer.client, operations=frozenset({"DeleteItem"}))
    injector.crash_after(0)
    with pytest.raises(SimulatedCrash, match="crash before request"):
        harness.deliver(event)
    injector.remove()
    assert harness.replica() != {}, "the item is still there: the delete never ran"
    # THEN Lambda's retry of the same batch deletes it, and counts the record once
    response = harness.deliver(event)
    assert response == {"batchItemFailures": []}
    assert harness.replica() == {}
    assert harness.metric_total("RecordsSkipped", Reason="AlreadyApplied") == 1


def test_a_replayed_insert_meets_the_tombstone_read_and_writes_nothing(regions, harness, requests):
    put(regions, "ann")
    insert = regions.tap.read_event()
    harness.deliver(insert)
    delete(regions, "ann")
    harness.deliver(regions.tap.read_event())
    requests.sent.clear()
    harness.deliver(insert)
    assert "PutItem" not in requests.operations(), "a put older than the tombstone is never sent"
    assert harness.replica() == {}
    assert harness.metric_total("RecordsSkipped", Reason="DeletedLater") == 1


def test_the_mark_is_the_highest_over_its_buckets_and_the_pre_bucket_item(regions):
    # GIVEN two execution environments, each raising its own bucket, and a mark left by a release
    # from before the buckets
    tables = ReplicaTables("Users", STATE, 72 * 3600)
    low, high, legacy = ("1".zfill(40), "3".zfill(40), "2".zfill(40))
    ReplicaWriter(regions.replica, tables, bucket=0).advance_watermark("Users", low)
    ReplicaWriter(regions.replica, tables, bucket=5).advance_watermark("Users", high)
    regions.replica.put_item(
        TableName=STATE,
        Item={"pk": {"S": schema.watermark_pk("Users")}, schema.VERSION_ATTRIBUTE: {"S": legacy}},
    )
    # WHEN repair reads the mark
    mark = Reconciler(ReplicaWriter(regions.replica, tables)).read_watermark("Users")
    # THEN it is the maximum over every bucket
    assert mark == high


def test_the_mark_never_goes_down_and_a_write_that_cannot_raise_it_is_skipped(regions, harness, requests):
    put(regions, "ann")
    put(regions, "bob")
    event = regions.tap.read_event()
    harness.deliver(event)
    assert requests.operations().count("UpdateItem") == 1
    requests.sent.clear()
    harness.deliver({"Records": event["Records"][:1]})  # an older batch: it cannot raise the mark
    assert "UpdateItem" not in requests.operations()
    mark = Reconciler(harness.replicator.writer).read_watermark("Users")
    assert int(mark or 0) == max(int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"])


def test_the_capacity_of_every_request_is_published_the_marks_included(regions, harness, requests):
    # GIVEN three new rows: one tombstone read, three puts and the high-water mark's update
    for ts in range(3):
        put(regions, "ann", ts)
    harness.deliver(regions.tap.read_event())
    assert sorted(requests.operations()) == ["BatchGetItem", "PutItem", "PutItem", "PutItem", "UpdateItem"]
    # THEN the units every answer reported are published, writes and reads apart (moto's figures,
    # not AWS's size rules: bench/capacity.py applies those)
    units = requests.units
    assert set(units) == {"BatchGetItem", "PutItem", "UpdateItem"} and all(units.values())
    assert harness.metric_total("ReplicaWriteUnits") == units["PutItem"] + units["UpdateItem"]
    assert harness.metric_total("ReplicaReadUnits") == units["BatchGetItem"]


def test_a_guarded_writer_reads_no_tombstones_before_its_transactions(regions, harness, requests):
    # GIVEN the replicator of a host racing the live one (redrive): every put is a transaction
    harness.replicator.writer.guarded_puts = True
    for ts in range(3):
        put(regions, "ann", ts)
    # WHEN a batch of new rows is replicated
    harness.deliver(regions.tap.read_event())
    # THEN each transaction checks its own tombstone; a batch read first would be paid for nothing
    assert sorted(requests.operations()) == ["TransactWriteItems"] * 3 + ["UpdateItem"]
    assert harness.replica() == harness.source()


def test_a_mark_that_cannot_be_recorded_hands_the_whole_batch_back(regions, harness):
    # GIVEN a state table that refuses the high-water mark's write (and only it)
    for ts in range(3):
        put(regions, "ann", ts)
    event = regions.tap.read_event()
    injector = FaultInjector(harness.replicator.writer.client, operations=frozenset({"UpdateItem"}))
    injector.fail_always(400, "AccessDeniedException")
    # WHEN the batch is replicated
    response = harness.deliver(event)
    injector.remove()
    # THEN the rows were written, but the batch is handed back from its first record, so no record
    # is ever applied above a mark that does not cover it
    first = min(int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"])
    assert harness.failed_sequences(response) == [str(first)]
    assert "high-water mark not recorded" in harness.output.getvalue()
