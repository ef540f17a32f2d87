"""Faults of the Lambda sandbox around a handler: crashes and timeouts part-way through a batch,
duplicate and out-of-order delivery.

:class:`FaultySandbox` wraps a handler the way the fault-injection suite needs it:

* **crash**: the runtime dies after ``k`` requests of the invocation (the fault layer raises
  :class:`~faultlab.faults.SimulatedCrash` at request ``k + 1`` and after); the event source mapping
  sees a function error and retries, bisecting when configured;
* **timeout**: the same, then the sandbox hangs past the function's timeout, so the mapping sees
  ``Sandbox.Timedout``. The hang happens after the crash, once the handler's own threads are done,
  so a timed-out invocation never writes while its retry runs (Lambda stops the sandbox);
* **duplicate**, **replay**, **newer first**: before the batch itself, the handler is given the same
  batch, an older batch it already processed, or the second half of the batch (so v3 arrives
  before v2). Their responses are ignored: what counts is what they did to the replica.

Decisions are drawn per invocation from (seed, the invocation's ordinal), and every invocation's
records are logged (:attr:`FaultySandbox.deliveries`) for the validators.
"""

from __future__ import annotations

import enum
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from faultlab.faults import FaultInjector, SimulatedCrash

Handler = Callable[[dict[str, Any], Any], Any]


class SandboxFault(enum.StrEnum):
    CRASH = "crash"
    TIMEOUT = "function-timeout"
    DUPLICATE = "duplicate-batch"
    REPLAY = "old-batch-replayed"
    NEWER_FIRST = "newer-half-first"


@dataclass(frozen=True, slots=True)
class SandboxRates:
    """Probability per invocation of each sandbox fault (at most one per invocation)."""

    crash: float = 0.0
    timeout: float = 0.0
    duplicate: float = 0.0
    replay: float = 0.0
    newer_first: float = 0.0
    max_requests_before_crash: int = 4

    def __post_init__(self) -> None:
        total = self.crash + self.timeout + self.duplicate + self.replay + self.newer_first
        if total > 1.0 or min(self.crash, self.timeout, self.duplicate, self.replay, self.newer_first) < 0:
            raise ValueError(
                f"sandbox fault probabilities must be within 0..1 and add up to at most 1: {self}"
            )


@dataclass(frozen=True, slots=True)
class Delivery:
    request_id: str
    started: float
    sequences: tuple[str, ...]
    """The batch the event source mapping delivered."""
    extra_records: int
    """Records handed to the handler on top of the batch (duplicates, replays) in this invocation."""
    fault: SandboxFault | None


def _sequences(event: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(record.get("dynamodb", {}).get("SequenceNumber", "")) for record in event.get("Records") or []
    )


@dataclass
class FaultySandbox:
    """A handler wrapped in sandbox faults; ``injector`` is the fault layer on its AWS client."""

    handler: Handler
    injector: FaultInjector | None
    rates: SandboxRates = field(default_factory=SandboxRates)
    seed: int = 0
    timeout_seconds: float = 3.0
    sleep: Callable[[float], None] = time.sleep
    history_size: int = 50
    counts: Counter[str] = field(default_factory=Counter)
    deliveries: list[Delivery] = field(default_factory=list)
    _ordinal: int = 0
    _history: deque[dict[str, Any]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _decide(self) -> tuple[SandboxFault | None, random.Random]:
        with self._lock:
            self._ordinal += 1
            rng = random.Random(f"{self.seed}:invocation:{self._ordinal}")  # noqa: S311
        roll, rates = rng.random(), self.rates
        for fault, p in (
            (SandboxFault.CRASH, rates.crash),
            (SandboxFault.TIMEOUT, rates.timeout),
            (SandboxFault.DUPLICATE, rates.duplicate),
            (SandboxFault.REPLAY, rates.replay),
            (SandboxFault.NEWER_FIRST, rates.newer_first),
        ):
            if roll < p:
                return fault, rng
            roll -= p
        return None, rng

    def _before(self, fault: SandboxFault | None, event: dict[str, Any], rng: random.Random) -> list[Any]:
        records = list(event.get("Records") or [])
        if fault is SandboxFault.DUPLICATE and records:
            return [{**event, "Records": records}]
        if fault is SandboxFault.REPLAY and self._history:
            return [rng.choice(list(self._history))]
        if fault is SandboxFault.NEWER_FIRST and len(records) > 1:
            return [{**event, "Records": records[len(records) // 2 :]}]
        return []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        fault, rng = self._decide()
        request_id = str(getattr(context, "aws_request_id", ""))
        extra = self._before(fault, event, rng)
        if extra:
            self.counts[str(fault)] += 1
        with self._lock:
            self.deliveries.append(
                Delivery(
                    request_id,
                    time.time(),
                    _sequences(event),
                    sum(len(e.get("Records") or []) for e in extra),
                    fault,
                )
            )
        try:
            return self._run(event, context, request_id=request_id, fault=fault, rng=rng, extra=extra)
        finally:
            if fault is SandboxFault.TIMEOUT:
                # The sandbox hangs: the mapping gives up on it at the function's timeout. Any crash
                # happened first, so nothing of this invocation writes after the timeout.
                self.counts[str(fault)] += 1
                self.sleep(self.timeout_seconds + 0.5)

    def _run(
        self,
        event: dict[str, Any],
        context: Any,
        *,
        request_id: str,
        fault: SandboxFault | None,
        rng: random.Random,
        extra: list[Any],
    ) -> Any:
        dies = fault in (SandboxFault.CRASH, SandboxFault.TIMEOUT)
        if self.injector is None:
            response = self._deliver(event, context, extra)
            if fault is SandboxFault.CRASH:
                # No AWS requests to crash at: the runtime dies after the handler's output was
                # written (it reaches the logs, as in Lambda) but before the response.
                self.counts[str(fault)] += 1
                raise SimulatedCrash("crash after the handler returned")
            return response
        crash_after = rng.randint(0, self.rates.max_requests_before_crash) if dies else None
        with self.injector.invocation(request_id, crash_after=crash_after) as state:
            try:
                return self._deliver(event, context, extra)
            finally:
                if state.crashed and fault is SandboxFault.CRASH:
                    self.counts[str(fault)] += 1

    def _deliver(self, event: dict[str, Any], context: Any, extra: list[Any]) -> Any:
        for earlier in extra:
            self.handler(earlier, context)
        response = self.handler(event, context)
        if event.get("Records"):
            with self._lock:
                self._history.append(event)
                while len(self._history) > self.history_size:
                    self._history.popleft()
        return response

    def replay_oldest(self, context: Any) -> Any:
        """Deliver the oldest batch in the history once more (a late redrive), outside any invocation."""
        with self._lock:
            event = self._history[0] if self._history else None
        return None if event is None else self.handler(event, context)


__all__ = ["Delivery", "FaultySandbox", "SandboxFault", "SandboxRates", "SimulatedCrash"]
