"""Fault scenarios run by more than one test: each scenario's own test, and the proof that the
validators bite when the same scenario runs against a deliberately broken replicator."""

from __future__ import annotations

from pathlib import Path

from faultlab.operator import CliRun
from faultlab.rig import FaultRig, RigSettings
from faultlab.sandbox import SandboxFault, SandboxRates
from faultlab.sequenced import SequencedSettings, SequencedWorkload
from tests.support.rig import RigFactory, running

REORDERING = SandboxRates(duplicate=0.25, replay=0.25, newer_first=0.25)
REORDERING_FAULTS = (SandboxFault.DUPLICATE, SandboxFault.REPLAY, SandboxFault.NEWER_FIRST)


def reordered_run(make_rig: RigFactory) -> tuple[FaultRig, SequencedWorkload]:
    """150 writes over 8 keys in batches of 10, three quarters of them delivered out of order or twice,
    then, after everything, the oldest batch delivered once more (a late redrive)."""
    rig = make_rig(RigSettings(seed=61, batch_size=10, sandbox=REORDERING))
    workload = rig.workload(SequencedSettings(keys=8, seed=61))
    workload.run(150)
    with running(rig):
        pass
    rig.sandbox.replay_oldest(None)
    return rig, workload


def outage_run(make_rig: RigFactory) -> tuple[FaultRig, SequencedWorkload]:
    """Writes at 40/s for 5 s over 60 keys; the replica region unreachable from 1 s to 4.5 s: far
    longer than the retry budget (1 retry of invocations that may write for 0.5 s each)."""
    rig = make_rig(RigSettings(seed=41, function_timeout=1.5, max_retry_attempts=1))
    workload = rig.workload(SequencedSettings(keys=60, seed=41))
    with running(rig):
        start = rig.injector.clock()
        rig.injector.outage(start + 1.0, start + 4.5)
        workload.run(200, rate=40)
    return rig, workload


def redrive(rig: FaultRig, tmp_path: Path) -> CliRun:
    return rig.redrive(tmp_path / "redrive.json")
