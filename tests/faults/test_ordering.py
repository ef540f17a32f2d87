"""Scenario 6: out-of-order and duplicate delivery: the same batch twice, older batches after newer
ones, the newer half of a batch before the older half (v3 before v2)."""

from __future__ import annotations

from faultlab.validate import require_all
from tests.support.rig import skip_reasons
from tests.support.scenarios import REORDERING_FAULTS, reordered_run


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
