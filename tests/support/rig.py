"""Drive a fault rig and read what happened: skip reasons, failure log lines, the raw stream."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from faultlab.rig import FaultRig
from faultlab.validate import emf_values
from telemetry import catalogue as c
from tests.support.streams import StreamTap

RigFactory = Callable[..., FaultRig]


def skip_reasons(rig: FaultRig) -> Counter[str]:
    """RecordsSkipped by reason over every replicator invocation that answered."""
    found: Counter[str] = Counter()
    for seen in rig.replicator_invocations():
        if seen.failed:
            continue
        for reason in c.SkipReason:
            dims = {c.TABLE: rig.cfg.table_name, c.SKIP_REASON: reason.value}
            found[reason.value] += round(
                emf_values(seen.output, rig.cfg.replication_namespace, c.RECORDS_SKIPPED.name, dims)
            )
    return +found


def failure_log(rig: FaultRig) -> list[dict[str, Any]]:
    """The replicator's "record not replicated" log lines (errorClass, sequenceNumber, keyHash)."""
    lines = []
    for seen in rig.replicator_invocations():
        for line in seen.output:
            if line.startswith("{") and '"record not replicated"' in line:
                lines.append(json.loads(line))
    return lines


@contextmanager
def running(rig: FaultRig, timeout: float = 60.0) -> Iterator[FaultRig]:
    """Run both consumers for the block, then drain everything written."""
    with rig.running():
        yield rig
        rig.drain(timeout)


def stream_records(rig: FaultRig) -> list[dict[str, Any]]:
    """Every record of the source table's stream, as GetRecords returns it (nothing annotated)."""
    tap = StreamTap(rig.clients.streams(rig.cfg.source_region), rig.deployment.stream_arn)
    return tap.read_raw()
