"""Six protocol bugs, planted one at a time: each one makes a test fail.

A proof that cannot see a planted bug proves nothing. Each class below was planted in the write
protocol by hand (issue #16); three are found by the state machine itself (tests/support/
convergence.py: the stale delete, the ignored tombstone, coalescing), three by a deterministic
check that also runs, unplanted, against the real protocol (an equal version overwriting, a mark
never raised, a repair at the lowest version). Each test plants its bug with ``monkeypatch`` and
asserts that the check fails.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from replicator import handler
from replicator.adapters.reconcile import Reconciler
from replicator.adapters.writer import ReplicaWriter
from replicator.core import plan as plan_rules
from replicator.core import protocol
from replicator.core import repair as repair_rules
from replicator.core.version import ZERO
from tests.support.actors import Repair
from tests.support.aws import aws, config, regions  # noqa: F401 (fixtures)
from tests.support.convergence import ReplicationMachine
from tests.support.events import key
from tests.support.replication import Harness
from tests.support.serial import serialise_every_request

serialise_every_request()

# Deterministic: the same examples every run, so a found bug is found every time (no flakiness),
# and the budget is the number of examples the machine needs, measured (docs/reliability.md).
HUNT = settings(
    max_examples=400,
    stateful_step_count=50,
    deadline=None,
    database=None,
    derandomize=True,
    phases=(Phase.generate,),
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
)
CONVERGENCE_BROKEN = (
    r"went backwards|must equal the source|not a state the source had|a deleted item was exposed"
    r"|deleted by an older delete"
)


def hunt() -> None:
    run_state_machine_as_test(ReplicationMachine, settings=HUNT)


# -- found by the state machine ---------------------------------------------------------------------


def test_the_machine_finds_a_delete_that_ignores_a_newer_item(monkeypatch):
    # GIVEN the stale-delete bug: a delete conditioned on "a different version" instead of "older"
    monkeypatch.setattr(
        protocol, "DELETE_IF_OLDER", "attribute_exists(#k) AND (attribute_not_exists(#v) OR #v <> :v)"
    )
    # WHEN the machine runs THEN it finds the history that shows it: INSERT, REMOVE, INSERT of one
    # key coalesced in one batch, then the REMOVE delivered alone, deleting the newer item
    with pytest.raises(AssertionError, match=CONVERGENCE_BROKEN):
        hunt()


def test_the_machine_finds_a_put_that_ignores_the_tombstone(monkeypatch):
    # GIVEN the tombstone check weakened away: a put never sees a newer delete
    monkeypatch.setattr(protocol, "deleted_later", lambda tombstone, version: False)
    # WHEN the machine runs THEN a replayed INSERT resurrects a deleted item
    with pytest.raises(AssertionError, match=CONVERGENCE_BROKEN):
        hunt()


def test_the_machine_finds_coalescing_that_keeps_the_oldest_record(monkeypatch):
    # GIVEN coalescing that writes the oldest record of each key instead of the newest
    real = plan_rules.plan_batch

    def oldest_wins(batch, policy):
        planned = real(batch, policy)
        writes = []
        for write in planned.writes:
            if not write.superseded:
                writes.append(write)
                continue
            oldest, *rest = write.superseded
            chosen = plan_rules._write_for(oldest, policy)
            assert isinstance(chosen, plan_rules.Write)
            writes.append(dataclasses.replace(chosen, superseded=(*rest, write.record)))
        return dataclasses.replace(planned, writes=tuple(writes))

    monkeypatch.setattr(handler, "plan_batch", oldest_wins)
    # WHEN the machine runs THEN the replica keeps an older state than the source's
    with pytest.raises(AssertionError, match=CONVERGENCE_BROKEN):
        hunt()


# -- found by a deterministic check (its correct-code twin is in tests/integration) -----------------


def duplicate_delivery_is_recognised(regions) -> None:  # noqa: F811
    harness = Harness(regions)
    regions.source.put_item(TableName="Users", Item={**key("ann"), "v": {"N": "1"}})
    regions.source.update_item(
        TableName="Users",
        Key=key("ann"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    event = regions.tap.read_event()
    harness.deliver(event)
    harness.deliver(event)
    assert harness.metric_total("RecordsSkipped", Reason="AlreadyApplied") == 1
    assert harness.metric_total("RecordsReplicated") == 1


def the_mark_covers_what_was_delivered(regions) -> None:  # noqa: F811
    harness = Harness(regions)
    regions.source.put_item(TableName="Users", Item={**key("ann"), "v": {"N": "1"}})
    event = regions.tap.read_event()
    harness.deliver(event)
    mark = Reconciler(harness.replicator.writer).read_watermark("Users")
    assert int(mark or 0) == int(event["Records"][-1]["dynamodb"]["SequenceNumber"])


def a_repair_never_lowers_a_version(regions) -> None:  # noqa: F811
    # a key deleted and re-inserted in separate batches: its tombstone is older than its item
    harness = Harness(regions)
    for change in ("put", "delete", "put"):
        if change == "put":
            regions.source.put_item(TableName="Users", Item={**key("ann"), "v": {"N": "1"}})
        else:
            regions.source.delete_item(TableName="Users", Key=key("ann"))
        harness.deliver(regions.tap.read_event())
    before = harness.replica_versions()
    repair = Repair(
        Reconciler(harness.replicator.writer),
        key("ann"),
        lambda: regions.source.get_item(TableName="Users", Key=key("ann"), ConsistentRead=True).get("Item"),
        "Users",
        lambda version, view: None,
    )
    while repair.step() is not None:
        pass
    after = harness.replica_versions()
    assert after.keys() == before.keys()
    assert all(after[k] >= before[k] for k in before), "the repair lowered a version"


def test_the_checks_hold_on_the_real_protocol(regions):  # noqa: F811
    duplicate_delivery_is_recognised(regions)
    the_mark_covers_what_was_delivered(regions)


def test_the_repair_check_holds_on_the_real_protocol(regions):  # noqa: F811
    a_repair_never_lowers_a_version(regions)


def test_a_repair_at_the_lowest_version_is_caught(regions, monkeypatch):  # noqa: F811
    # GIVEN a repair that writes at the lowest of the item's, the tombstone's and the mark's versions
    def lowest(state, watermark):
        candidates = [v for v in (state.item_version, state.tombstone_version, watermark) if v]
        return min(candidates, default=ZERO)

    monkeypatch.setattr(repair_rules, "repair_version", lowest)
    # WHEN a key whose tombstone is older than its item is repaired THEN its version goes down
    with pytest.raises(AssertionError, match="the repair lowered a version"):
        a_repair_never_lowers_a_version(regions)


def test_an_equal_version_overwriting_is_caught(regions, monkeypatch):  # noqa: F811
    # GIVEN puts that overwrite an equal version
    monkeypatch.setattr(protocol, "PUT_OVER_OLDER", "#v <= :v")
    monkeypatch.setattr(protocol, "PUT_IF_NEWER", "attribute_not_exists(#v) OR #v <= :v")
    # WHEN the same batch is delivered twice THEN the duplicate is counted as written again
    with pytest.raises(AssertionError, match="assert 0 == 1"):
        duplicate_delivery_is_recognised(regions)


def test_a_high_water_mark_never_raised_is_caught(regions, monkeypatch):  # noqa: F811
    # GIVEN a writer that never raises the mark
    monkeypatch.setattr(ReplicaWriter, "advance_watermark", lambda self, table, version, meter=None: None)
    # WHEN a batch is delivered THEN the mark does not cover it
    with pytest.raises(AssertionError, match="assert 0 =="):
        the_mark_covers_what_was_delivered(regions)
