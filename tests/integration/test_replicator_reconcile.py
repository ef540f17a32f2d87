"""Repairing the replica from the source's current state, without racing the replicator."""

from __future__ import annotations

import copy

from replicator.adapters.reconcile import Reconciler
from replicator.core import schema
from replicator.core.repair import RepairOutcome, repair_version
from tests.support.events import key
from tests.support.replication import Harness, without_metadata


def source_item(regions, user):
    return regions.source.get_item(TableName="Users", Key=key(user), ConsistentRead=True).get("Item")


def test_a_missing_item_is_written_above_every_record_already_seen(regions):
    harness = Harness(regions)
    reconciler = Reconciler(harness.replicator.writer)
    regions.source.put_item(TableName="Users", Item={**key("alice"), "v": {"S": "old"}})
    old_insert = regions.tap.read_event()
    harness.deliver(old_insert)
    regions.replica.delete_item(TableName="Users", Key=key("alice"))  # lost out of band
    # WHEN the item is repaired from the source
    mark = reconciler.read_watermark("Users")
    observed = reconciler.read_state(key("alice"))
    outcome = reconciler.write_current_state(
        key("alice"), observed, source_item(regions, "alice"), repair_version(observed, mark)
    )
    # THEN it is back, and a replay of the old record cannot overwrite it
    assert outcome is RepairOutcome.WRITTEN
    assert harness.replica() == harness.source()
    assert harness.replica_versions()[next(iter(harness.replica_versions()))] == mark
    assert harness.deliver(copy.deepcopy(old_insert)) == {"batchItemFailures": []}
    assert harness.replica() == harness.source()


def test_a_repair_racing_a_newer_replicated_change_keeps_the_newer_change(regions):
    harness = Harness(regions)
    reconciler = Reconciler(harness.replicator.writer)
    regions.source.put_item(TableName="Users", Item={**key("alice"), "v": {"S": "v1"}})
    harness.deliver(regions.tap.read_event())
    # GIVEN a repair that has read the replica and the source
    mark = reconciler.read_watermark("Users")
    observed = reconciler.read_state(key("alice"))
    stale_source = source_item(regions, "alice")
    # WHEN a newer change is replicated before the repair writes
    regions.source.put_item(TableName="Users", Item={**key("alice"), "v": {"S": "v2"}})
    harness.deliver(regions.tap.read_event())
    outcome = reconciler.write_current_state(
        key("alice"), observed, stale_source, repair_version(observed, mark)
    )
    # THEN the repair backs off and the newer change stays
    assert outcome is RepairOutcome.CONFLICT
    (item,) = harness.replica().values()
    assert item["v"] == {"S": "v2"}


def test_an_extra_item_is_deleted_with_a_tombstone_so_a_replay_cannot_bring_it_back(regions):
    harness = Harness(regions)
    reconciler = Reconciler(harness.replicator.writer)
    regions.source.put_item(TableName="Users", Item={**key("ghost")})
    insert = regions.tap.read_event()
    harness.deliver(insert)
    regions.source.delete_item(TableName="Users", Key=key("ghost"))
    regions.tap.read()  # the REMOVE record is lost (e.g. it aged out of the stream after failing)
    mark = reconciler.read_watermark("Users")
    observed = reconciler.read_state(key("ghost"))
    outcome = reconciler.write_current_state(key("ghost"), observed, None, repair_version(observed, mark))
    assert outcome is RepairOutcome.DELETED
    assert harness.replica() == {}
    harness.deliver(copy.deepcopy(insert))
    assert harness.replica() == {}
    (tombstone,) = harness.tombstones()
    assert tombstone[schema.VERSION_ATTRIBUTE]["S"] == mark


def test_an_unversioned_item_written_by_someone_else_is_replaced(regions):
    harness = Harness(regions)
    reconciler = Reconciler(harness.replicator.writer)
    regions.replica.put_item(TableName="Users", Item={**key("bob"), "v": {"S": "foreign"}})
    regions.source.put_item(TableName="Users", Item={**key("bob"), "v": {"S": "true"}})
    observed = reconciler.read_state(key("bob"))
    assert observed.item is not None and observed.item_version is None
    outcome = reconciler.write_current_state(
        key("bob"), observed, source_item(regions, "bob"), repair_version(observed, None)
    )
    assert outcome is RepairOutcome.WRITTEN
    assert [without_metadata(i) for i in harness.replica().values()] == [source_item(regions, "bob")]


def test_a_key_with_a_tombstone_is_repaired_against_that_tombstone_with_consistent_reads(regions):
    harness = Harness(regions)
    reconciler = Reconciler(harness.replicator.writer)
    reads: list[bool] = []
    harness.replicator.writer.client.meta.events.register(
        "before-parameter-build.dynamodb.GetItem",
        lambda params, **_: reads.append(params.get("ConsistentRead")),
    )
    # GIVEN a key deleted in the replica (a tombstone), then re-created in the source, the record lost
    regions.source.put_item(TableName="Users", Item={**key("ann"), "v": {"S": "1"}})
    harness.deliver(regions.tap.read_event())
    regions.source.delete_item(TableName="Users", Key=key("ann"))
    harness.deliver(regions.tap.read_event())
    regions.source.put_item(TableName="Users", Item={**key("ann"), "v": {"S": "2"}})
    regions.tap.read()
    (tombstone,) = harness.tombstones()
    # WHEN it is repaired
    mark = reconciler.read_watermark("Users")
    observed = reconciler.read_state(key("ann"))
    # THEN the repair sees the tombstone, writes above it, and every read was strongly consistent
    assert observed.tombstone_version == tombstone[schema.VERSION_ATTRIBUTE]["S"]
    version = repair_version(observed, mark)
    assert reconciler.write_current_state(key("ann"), observed, source_item(regions, "ann"), version) is (
        RepairOutcome.WRITTEN
    )
    assert harness.replica() == harness.source()
    assert reads and all(reads), "a repair reads the replica and its tombstones strongly consistently"


def test_a_repair_whose_tombstone_changed_since_it_was_read_backs_off(regions):
    harness = Harness(regions)
    reconciler = Reconciler(harness.replicator.writer)
    regions.source.put_item(TableName="Users", Item={**key("ann"), "v": {"S": "1"}})
    harness.deliver(regions.tap.read_event())
    regions.source.delete_item(TableName="Users", Key=key("ann"))
    harness.deliver(regions.tap.read_event())
    observed = reconciler.read_state(key("ann"))
    # WHEN a newer delete of the key is replicated between the repair's read and its write
    regions.source.put_item(TableName="Users", Item={**key("ann"), "v": {"S": "2"}})
    regions.source.delete_item(TableName="Users", Key=key("ann"))
    harness.deliver(regions.tap.read_event())
    stale = {**key("ann"), "v": {"S": "1"}}
    # THEN the repair's condition on the tombstone it read fails, and nothing is resurrected
    assert reconciler.write_current_state(key("ann"), observed, stale, "9" * 40) is RepairOutcome.CONFLICT
    assert harness.replica() == {}
