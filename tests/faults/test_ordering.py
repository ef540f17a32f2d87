"""Scenario 6: out-of-order and duplicate delivery: the same batch twice, older batches after newer
ones, the newer half of a batch before the older half (v3 before v2)."""

from __future__ import annotations

import pytest

from faultlab.rig import FaultRig, RigSettings
from faultlab.sandbox import SandboxFault, SandboxRates
from faultlab.sequenced import SequencedSettings, SequencedWorkload
from faultlab.validate import require_all
from tests.faults.conftest import running, skip_reasons

pytestmark = pytest.mark.slow

REORDERING = SandboxRates(duplicate=0.25, replay=0.25, newer_first=0.25)


def reordered_run(make_rig) -> tuple[FaultRig, SequencedWorkload]:
    """150 writes over 8 keys in batches of 10, three quarters of them delivered out of order or twice,
    then, after everything, the oldest batch delivered once more (a late redrive)."""
    rig = make_rig(RigSettings(seed=61, batch_size=10, sandbox=REORDERING))
    workload = rig.workload(SequencedSettings(keys=8, seed=61))
    workload.run(150)
    with running(rig):
        pass
    rig.sandbox.replay_oldest(None)
    return rig, workload


def test_duplicates_and_older_records_after_newer_ones_leave_the_newer_state(make_rig):
    # GIVEN / WHEN the replicator is handed batches twice, old batches late, and newer records first
    rig, workload = reordered_run(make_rig)
    assert all(rig.sandbox.counts[fault] >= 3 for fault in REORDERING_FAULTS), rig.sandbox.counts
    # THEN the older records were recognised: duplicates as already applied, older ones as stale, old
    # inserts of keys deleted since by their tombstones
    reasons = skip_reasons(rig)
    assert reasons["AlreadyApplied"] > 0 and reasons["Stale"] > 0 and reasons["DeletedLater"] > 0, reasons
    # AND the newer state stayed: replica = source, no key's accepted version ever went backwards
    require_all(rig.problems(workload.model))


REORDERING_FAULTS = (SandboxFault.DUPLICATE, SandboxFault.REPLAY, SandboxFault.NEWER_FIRST)
