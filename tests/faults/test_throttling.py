"""Scenario 1: bursts of throttling and 5xx answers from the replica region."""

from __future__ import annotations

from faultlab.faults import FaultKind, FaultRates
from faultlab.rig import RigSettings
from faultlab.sequenced import SequencedSettings
from faultlab.validate import require_all
from tests.support.rig import running

BURST = FaultRates(throttle=0.55, server_error=0.35)
BURST_START, BURST_END = 0.5, 4.0


def test_throttling_and_5xx_bursts_back_off_drop_nothing_and_the_iterator_age_recovers(make_rig):
    # GIVEN writes at 40/s for 5.5 s while, from 0.5 s to 4 s, 90 % of replica requests are throttled or
    # answered 500/503, with the deployment's bounded retries (10) and a 2 s function timeout
    rig = make_rig(RigSettings(seed=11, function_timeout=2.0, max_retry_attempts=10))
    workload = rig.workload(SequencedSettings(keys=20, seed=11))
    # WHEN the system runs through the burst
    with running(rig):
        start = rig.injector.clock()
        rig.injector.burst(start + BURST_START, start + BURST_END, BURST)
        workload.run(220, rate=40)
    # THEN both kinds of fault were injected, many times
    injected = rig.injector.injected
    assert injected[FaultKind.THROTTLE] >= 15 and injected[FaultKind.SERVER_ERROR] >= 10, injected
    # AND nothing was dropped: no failure-destination message, the replica equals the source, no key
    # went backwards, the metrics match what happened (ReplicaThrottles = throttles injected)
    assert rig.failure_messages() == []
    assert rig.observations.discards == []
    require_all(rig.problems(workload.model))
    # AND the replicator backed off: no write was attempted more than a handful of times within one
    # invocation (a retry loop without backoff makes hundreds of attempts in a second)
    attempts = max(state.max_attempts for state in rig.injector.invocations.values())
    assert 3 <= attempts <= 15
    # AND the iterator age rose during the burst (records waited 3.5 s; the age has 1 s resolution:
    # ApproximateCreationDateTime is rounded down) and the backlog was worked off after it: the last
    # batch waited at least 2 s less than the peak. (Relative, not a latency threshold: on a loaded
    # machine every age grows; the burst's 3.5 s come on top of that only during the burst.)
    ages = [seen.iterator_age_ms for seen in rig.replicator_invocations() if seen.iterator_age_ms is not None]
    assert max(ages) >= 3000, ages
    assert max(ages) - ages[-1] >= 2000, ages
