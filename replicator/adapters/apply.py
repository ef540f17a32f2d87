"""Run a plan's writes against the replica: different keys concurrently, each with its retries.

After coalescing a plan holds at most one write per key, so running writes concurrently cannot
reorder changes of one key; per-key order is the plan's job, throughput is this module's.

The tombstones of the batch's INSERT keys are read first, 100 keys per consistent BatchGetItem
(1 RRU each instead of a 2 WRU ConditionCheck per put); each put waits only for its own chunk. A
chunk that cannot be read leaves its puts to read their tombstone themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from replicator.adapters.retry import Backoff, Deadline, call_with_retries
from replicator.adapters.writer import Meter, ReplicaWriter
from replicator.core import version
from replicator.core.errors import ReplicatorError, RetryableError, Throttled
from replicator.core.outcomes import ApplyResult, WriteResult
from replicator.core.plan import Plan, Write
from replicator.core.protocol import UNKNOWN, Tombstone, batches, inserted_keys

T = TypeVar("T")


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
    meter = Meter()

    def retrying(action: Callable[[], T]) -> T:
        return call_with_retries(
            action,
            deadline=deadline,
            backoff=backoff,
            min_attempt_seconds=executor.min_attempt_seconds,
            sleep=executor.sleep,
            on_retryable=throttles.bump,
        )

    def read(chunk: Sequence[str]) -> dict[str, str] | None:
        try:
            return retrying(lambda: writer.read_tombstones(chunk, meter))
        except Exception:  # the puts of this chunk read their own tombstones, and report any error
            return None

    reads: dict[str, Future[dict[str, str] | None]] = {}

    def tombstone(write: Write) -> Tombstone:
        pending = reads.get(write.key_hash)
        found = None if pending is None else pending.result()
        return UNKNOWN if found is None else found.get(write.key_hash)

    def run(write: Write) -> WriteResult:
        try:
            known = tombstone(write)
            outcome = writer.apply(write, tombstone=known, meter=meter, attempt=retrying)
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
            retrying(lambda: writer.advance_watermark(source_table, mark, meter))
        except Exception as exc:
            return exc
        return None

    inserts = [] if writer.guarded_puts else inserted_keys(plan.writes)
    chunks = batches(inserts)
    # one worker for the mark, one per tombstone read, one per write
    workers = max(1, min(executor.max_workers, 1 + len(chunks) + len(plan.writes)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replica-write") as pool:
        watermark = pool.submit(advance)
        # Submitted before any put: the pool's queue is FIFO, so every read has started before a
        # put can wait for one.
        for chunk in chunks:
            reads.update(dict.fromkeys(chunk, pool.submit(read, chunk)))
        results = tuple(pool.map(run, plan.writes))
        watermark_error = watermark.result()
    return ApplyResult(results, watermark_error, throttles.value, meter.total)
