"""Convergence and no exposure, proven over generated histories, deliveries and racing actors.

The machine (tests/support/convergence.py) interleaves source writes, every way Lambda delivers
records, a stepped invocation whose reads and writes are separate steps, its crash with a request
landing late, redrive, repair and backfill. ``CONVERGENCE_EXAMPLES`` sets the example count
(default 60; ``make soak`` runs ten times as many).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from replicator.core import protocol
from tests.support.convergence import ReplicationMachine
from tests.support.serial import serialise_every_request

# moto rolls back a failed transaction by restoring whole tables, undoing other keys' concurrent
# writes; DynamoDB never does (tests/support/serial.py).
serialise_every_request()

EXAMPLES = int(os.environ.get("CONVERGENCE_EXAMPLES", "60"))
TestConvergence = ReplicationMachine.TestCase
TestConvergence.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

HUNT = settings(
    max_examples=300,
    stateful_step_count=50,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples every run: a finding is found every time
    phases=(Phase.generate,),  # finding one counterexample is the point; no shrinking
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
)


class StrictMachine(ReplicationMachine):
    strict_exposure = True


def test_the_exposure_check_flags_a_remove_between_its_tombstone_and_its_delete():
    # GIVEN the machine allowing no exposure, an item in the replica and its delete in the stream
    machine = StrictMachine()
    try:
        machine.put("ann", 1)
        machine.deliver_next_batch(size=8, fault="none", after=0)
        machine.replica_items_are_source_states_and_nothing_deleted_is_exposed()
        machine.delete("ann")
        machine.start_a_stepped_invocation(size=8)
        # WHEN the stepped invocation has written the tombstone but not yet deleted the item
        machine.step_the_invocation()
        # THEN the invariant sees the deleted item exposed, and names the step that opened it
        with pytest.raises(AssertionError, match="a deleted item was exposed by tombstone"):
            machine.replica_items_are_source_states_and_nothing_deleted_is_exposed()
    finally:
        machine.mock.stop()


@pytest.mark.skipif(EXAMPLES < 300, reason="the long profile: make soak (CONVERGENCE_EXAMPLES=600)")
def test_the_machine_generates_the_exposures_the_design_allows():
    # GIVEN the same machine, allowing no exposure at all
    # WHEN it runs
    # THEN it finds one of the interleavings docs/design.md lists (the list is about histories the
    # machine really generates)
    with pytest.raises(
        AssertionError, match=r"a deleted item was exposed by (tombstone|late|put|a delivery)"
    ):
        run_state_machine_as_test(StrictMachine, settings=HUNT)


def test_the_machine_finds_a_writer_that_ignores_versions(monkeypatch):
    # GIVEN a broken writer whose conditions accept any different version, older ones included
    for name in ("PUT_OVER_OLDER", "PUT_IF_NEWER"):
        monkeypatch.setattr(protocol, name, "attribute_not_exists(#v) OR #v <> :v")
    monkeypatch.setattr(protocol, "DELETE_IF_OLDER", "attribute_exists(#k) AND #v <> :v")
    # WHEN the machine runs against it THEN it finds a history that breaks convergence
    with pytest.raises(
        AssertionError,
        match=r"went backwards|the replica must equal|not a state|older delete|a deleted item was exposed",
    ):
        run_state_machine_as_test(ReplicationMachine, settings=HUNT)
