"""Run a plan's writes against the replica: different keys concurrently, each with its retries.

After coalescing a plan holds at most one write per key, so running writes concurrently cannot
reorder changes of one key; per-key order is the plan's job, throughput is this module's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from replicator.adapters.retry import Backoff, Deadline, call_with_retries
from replicator.adapters.writer import ReplicaWriter
from replicator.core import version
from replicator.core.errors import ReplicatorError, RetryableError, Throttled
from replicator.core.outcomes import ApplyResult, Outcome, WriteResult
from replicator.core.plan import Plan, Write


@dataclass(frozen=True, slots=True)
class Executor:
    """How writes are run: concurrency, timing and the retry policy."""

    max_workers: int
    min_attempt_seconds: float
    backoff_factory: Callable[[], Backoff] = Backoff
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time


class _Counter:
    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def bump(self, error: RetryableError) -> None:
        if isinstance(error, Throttled):
            with self._lock:
                self.value += 1


def apply_plan(
    plan: Plan, writer: ReplicaWriter, *, source_table: str, deadline: Deadline, executor: Executor
) -> ApplyResult:
    """Apply every write of ``plan`` and advance the source table's high-water mark, concurrently."""
    throttles = _Counter()
    backoff = executor.backoff_factory()

    def retrying(action: Callable[[], Outcome | None]) -> Outcome | None:
        return call_with_retries(
            action,
            deadline=deadline,
            backoff=backoff,
            min_attempt_seconds=executor.min_attempt_seconds,
            sleep=executor.sleep,
            on_retryable=throttles.bump,
        )

    def run(write: Write) -> WriteResult:
        try:
            outcome = retrying(lambda: writer.apply(write))
            return WriteResult(write, outcome, None, executor.wall_clock())
        except ReplicatorError as exc:
            return WriteResult(write, None, exc, None)
        except Exception as exc:  # a bug in one write must fail its record, not hide in the batch
            return WriteResult(write, None, exc, None)

    def advance() -> Exception | None:
        if plan.max_sequence is None:
            return None
        mark = version.encode(plan.max_sequence)
        try:
            retrying(lambda: writer.advance_watermark(source_table, mark))
        except Exception as exc:
            return exc
        return None

    workers = max(1, min(executor.max_workers, len(plan.writes) + 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replica-write") as pool:
        watermark = pool.submit(advance)
        results = tuple(pool.map(run, plan.writes))
        watermark_error = watermark.result()
    return ApplyResult(results, watermark_error, throttles.value)
