"""What the fault rig keeps of a run: every invocation with its output, every discarded batch."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from localrun.cloudwatch.observe import RunnerTelemetry
from localrun.esm.failure import Condition
from localrun.invoke.function import Function, Invocation


@dataclass(frozen=True, slots=True)
class InvocationSeen:
    """One invocation as the event source mapping saw it (kept by the rig's observer)."""

    function: str
    request_id: str
    at: float
    records: int
    failed: bool
    error_type: str | None
    output: tuple[str, ...]
    iterator_age_ms: float | None


@dataclass(frozen=True, slots=True)
class Discard:
    function: str
    at: float
    records: int
    condition: Condition


class Observations:
    """The rig's observer: publishes like the runner's telemetry and keeps every invocation."""

    def __init__(self, telemetry: RunnerTelemetry) -> None:
        self._telemetry = telemetry
        self._lock = threading.Lock()
        self.invocations: list[InvocationSeen] = []
        self.discards: list[Discard] = []

    def invoked(
        self, function: Function, invocation: Invocation, *, records: int, iterator_age_ms: float | None
    ) -> None:
        self._telemetry.invoked(function, invocation, records=records, iterator_age_ms=iterator_age_ms)
        seen = InvocationSeen(
            function.name,
            invocation.request_id,
            time.time(),
            records,
            invocation.failed,
            invocation.error_type,
            invocation.output,
            iterator_age_ms,
        )
        with self._lock:
            self.invocations.append(seen)

    def discarded(self, function: Function, records: int, condition: Condition) -> None:
        self._telemetry.discarded(function, records, condition)
        with self._lock:
            self.discards.append(Discard(function.name, time.time(), records, condition))

    def of(self, function: str) -> list[InvocationSeen]:
        with self._lock:
            return [seen for seen in self.invocations if seen.function == function]
