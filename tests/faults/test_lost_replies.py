"""Scenario 2: timeouts with an unknown outcome, above all writes applied whose reply was lost."""

from __future__ import annotations

from faultlab.faults import FaultKind, FaultRates
from faultlab.rig import RigSettings
from faultlab.sequenced import SequencedSettings
from faultlab.validate import require_all
from tests.support.rig import failure_log, running, skip_reasons


def test_a_retry_after_a_lost_reply_is_recognised_as_already_applied(make_rig):
    # GIVEN 150 writes over 15 keys, and a replica whose replies are lost for 30 % of the requests
    # (the write was applied) and 10 % time out before reaching it (the write was not applied)
    rig = make_rig(RigSettings(seed=21, function_timeout=5.0, rates=FaultRates(lost_reply=0.3, timeout=0.1)))
    workload = rig.workload(SequencedSettings(keys=15, seed=21))
    workload.run(150)
    # WHEN the replicator works through the stream
    with running(rig):
        pass
    lost = sum(state.lost_write_replies for state in rig.injector.invocations.values())
    assert lost >= 10 and rig.injector.injected[FaultKind.TIMEOUT] >= 3, rig.injector.injected
    # THEN every retry of a write whose reply was lost found its own version: one AlreadyApplied skip
    # per lost reply, and the replica accepted no write twice (versions strictly increase per key)
    assert skip_reasons(rig)["AlreadyApplied"] == lost
    assert failure_log(rig) == []
    # AND the replica equals the source, and the metrics match what the replica acknowledged
    require_all(rig.problems(workload.model))
    assert rig.failure_messages() == []
