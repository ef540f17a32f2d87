"""Scenario 3: the Lambda runtime crashes or times out part-way through a batch, and the batch is
delivered again (bisected), so writes that landed before the crash are replayed."""

from __future__ import annotations

from faultlab.faults import FaultKind
from faultlab.rig import RigSettings
from faultlab.sandbox import SandboxFault, SandboxRates
from faultlab.sequenced import SequencedSettings
from faultlab.validate import require_all
from localrun.invoke.function import EXIT_ERROR, TIMEOUT_ERROR
from tests.support.rig import running, skip_reasons


def test_crashes_and_timeouts_mid_batch_converge_without_resurrecting_deleted_items(make_rig):
    # GIVEN a backlog of 240 writes over 12 keys with many deletes and re-inserts; a replicator whose
    # runtime dies after 0 to 10 requests in 30 % of its invocations, or hangs past its 2 s timeout
    # (after the same kind of crash) in 4 %; and a usage-metrics consumer that dies after writing its
    # output in 15 % of its invocations
    settings = RigSettings(
        seed=33,
        batch_size=20,
        function_timeout=2.0,
        max_retry_attempts=10,
        sandbox=SandboxRates(crash=0.3, timeout=0.04, max_requests_before_crash=10),
        metrics_sandbox=SandboxRates(crash=0.15),
    )
    rig = make_rig(settings)
    workload = rig.workload(SequencedSettings(keys=12, seed=33, update=0.3, replace=0.2, delete=0.3))
    workload.run(240)
    # WHEN both consumers work through the stream
    with running(rig):
        pass
    # THEN crashes and timeouts happened, and the event source mapping saw them as function errors
    assert rig.injector.injected[FaultKind.CRASH] >= 5, rig.injector.injected
    assert rig.sandbox.counts[SandboxFault.TIMEOUT] >= 1, rig.sandbox.counts
    errors = {seen.error_type for seen in rig.replicator_invocations() if seen.failed}
    assert errors == {EXIT_ERROR, TIMEOUT_ERROR}
    assert rig.metrics_sandbox.counts[SandboxFault.CRASH] >= 1
    # AND replayed records met what the crashed invocations had written: already applied, and
    # inserts older than a replicated delete were refused by its tombstone (no resurrection)
    reasons = skip_reasons(rig)
    assert reasons["AlreadyApplied"] > 0 and reasons["DeletedLater"] > 0, reasons
    # AND nothing was lost or resurrected: replica = source, versions never went backwards, and
    # ItemChanges counted every write once plus only what crashed invocations had already published
    require_all(rig.problems(workload.model))
    assert rig.failure_messages() == []
