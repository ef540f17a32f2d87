"""Deadline-aware retries with full-jitter exponential backoff.

botocore's own retry modes know nothing of a Lambda invocation's remaining time, so its retries are
switched off for the replica client (``total_max_attempts=1``) and done here instead: a write is
retried while the invocation can still afford the wait plus one more attempt, and otherwise handed
back as failed so Lambda delivers the record again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from replicator.core.errors import DeadlineExceeded, RetryableError

T = TypeVar("T")


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Deadline:
    """The moment by which all writes must be finished, leaving ``reserve`` seconds to report."""

    expires_at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_context(
        cls, context: LambdaContextLike | None, *, reserve: float, default: float = 60.0
    ) -> Deadline:
        remaining = default if context is None else context.get_remaining_time_in_millis() / 1000
        return cls(time.monotonic() + remaining - reserve)

    def remaining(self) -> float:
        return self.expires_at - self.clock()


@dataclass(slots=True)
class Backoff:
    """Full jitter ("Exponential Backoff and Jitter", AWS Architecture Blog): U(0, min(cap, base*2^n))."""

    base: float = 0.05
    cap: float = 5.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap, self.base * (2 ** min(attempt, 30))))


def call_with_retries(
    attempt: Callable[[], T],
    *,
    deadline: Deadline,
    backoff: Backoff,
    min_attempt_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    on_retryable: Callable[[RetryableError], None] = lambda _: None,
) -> T:
    """Call ``attempt`` until it succeeds, raises a non-retryable error, or time runs out.

    ``min_attempt_seconds`` is what one more attempt may take (the client's timeouts): an attempt is
    started only if it can finish before the deadline. The last retryable error is re-raised when
    time runs out, so the failure keeps its real class (throttling stays ``Throttled``).
    """
    tries = 0
    while True:
        if deadline.remaining() < min_attempt_seconds:
            raise DeadlineExceeded("the invocation ran out of time before the write was attempted")
        try:
            return attempt()
        except RetryableError as exc:
            on_retryable(exc)
            if not exc.retry_in_process:
                raise
            tries += 1
            pause = backoff.delay(tries)
            if deadline.remaining() < pause + min_attempt_seconds:
                raise
            sleep(pause)
