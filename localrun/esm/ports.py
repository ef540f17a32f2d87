"""What a shard processor is given: how to invoke, who to tell, how long to wait before a retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from localrun.esm.failure import Condition
from localrun.invoke.function import Function, Invocation

Invoker = Callable[[dict[str, Any]], Invocation]


class Observer(Protocol):
    """Told about every invocation and every discarded batch (metrics, logs, progress)."""

    def invoked(
        self, function: Function, invocation: Invocation, *, records: int, iterator_age_ms: float | None
    ) -> None: ...

    def discarded(self, function: Function, records: int, condition: Condition) -> None: ...


class QuietObserver:
    """An observer that is told everything and keeps nothing."""

    def invoked(
        self, function: Function, invocation: Invocation, *, records: int, iterator_age_ms: float | None
    ) -> None:
        return None

    def discarded(self, function: Function, records: int, condition: Condition) -> None:
        return None


def exponential_backoff(retries: int) -> float:
    """Seconds before retry number ``retries``: 0.1 s doubling up to 5 s (Lambda documents none)."""
    return float(min(5.0, 0.1 * 2 ** max(0, retries - 1)))
