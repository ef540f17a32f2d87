"""The consistency check: scan both tables, pair items by key, then confirm every candidate.

1. Each table is scanned in ``--segments`` parallel segments, the two tables side by side (two
   threads per segment), and every item goes to one :class:`~replicator.cli.diff.Matcher` (keys and
   a 16-byte digest kept per unpaired item). Scans are eventually consistent: half the read cost,
   and the confirmation below is what decides.
2. Every key left unpaired or paired with a different digest is a *candidate*.
3. After ``--grace-seconds`` each candidate is read again with strongly consistent reads, the
   source first and then the replica (a change still replicating then has the whole read to land),
   and only keys that still differ are reported.

``--sample FRACTION`` scans a random FRACTION of 1,000 segments of both tables: reads, time and
memory all shrink with it. Where both tables put a key in the same segment (moto does, by partition
key hash; DynamoDB does not document how it assigns segments) both scans see the same keys. A key
whose other side lies in a segment not scanned becomes a candidate and the consistent re-read settles
it, so sampling never reports a false difference; at worst it costs those re-reads.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ddbstream import key_id
from replicator.cli.diff import Matcher
from replicator.cli.parallel import check_stop, run_all
from replicator.cli.progress import Progress
from replicator.cli.results import CheckResult
from replicator.cli.scan import Reader
from replicator.core.compare import Agreement, Difference, Origin, Rules, compare, summarise
from replicator.core.protocol import batches

SAMPLE_SEGMENTS = 1000


@dataclass(frozen=True, slots=True)
class CheckOptions:
    segments: int = 4
    page_size: int | None = 1000
    sample: float | None = None
    seed: int | None = None
    grace_seconds: float = 5.0


def scan_units(options: CheckOptions) -> tuple[list[int], int]:
    """Which segments to scan, out of how many."""
    if options.sample is None:
        return list(range(options.segments)), options.segments
    count = max(1, round(options.sample * SAMPLE_SEGMENTS))
    chosen = random.Random(options.seed).sample(range(SAMPLE_SEGMENTS), count)  # noqa: S311 - not crypto
    return sorted(chosen), SAMPLE_SEGMENTS


@dataclass
class Checker:
    source: Reader
    replica: Reader
    rules: Rules
    clock: Callable[[], float] = time.time
    wait: Callable[[float], None] = time.sleep
    progress: Progress | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(self, options: CheckOptions) -> CheckResult:
        started = time.monotonic()
        matcher = Matcher()
        segments, total = scan_units(options)
        # Both tables' scans of a segment run side by side (their latencies overlap: the tables are in
        # different regions) and in step, so few items wait long for their pair.
        tasks = [
            self._scan_task(matcher, origin, segment, total, options.page_size)
            for segment in segments
            for origin in (Origin.SOURCE, Origin.REPLICA)
        ]
        run_all(tasks, workers=2 * options.segments, name="check-scan")
        if self.progress is not None:
            self.progress.close()
        candidates = matcher.candidates()
        confirmed = self.confirm(candidates, options.grace_seconds, workers=options.segments)
        expired_now = sum(1 for c in confirmed if c is Agreement.EXPIRED)
        matcher.stats.expired += expired_now
        differences = [c for c in confirmed if isinstance(c, Difference)]
        return CheckResult(
            differences=sorted(differences, key=lambda d: (d.kind.value, key_id(d.keys))),
            stats=matcher.stats,
            candidates=len(candidates),
            settled=len(candidates) - len(differences),
            scanned_segments=len(segments),
            total_segments=total,
            seconds=time.monotonic() - started,
            source_units=self.source.bucket.consumed,
            replica_units=self.replica.bucket.consumed,
            throttled=self.source.throttled + self.replica.throttled,
            sample=options.sample,
        )

    def _scan_task(
        self, matcher: Matcher, origin: Origin, segment: int, total: int, page_size: int | None
    ) -> Callable[[threading.Event], None]:
        reader = self.source if origin is Origin.SOURCE else self.replica

        def task(stop: threading.Event) -> None:
            for page in reader.scan(segment, total, consistent=False, page_size=page_size):
                check_stop(stop)
                now = self.clock()
                summaries = [summarise(origin, item, self.rules, now) for item in page.items]
                with self._lock:
                    for summary in summaries:
                        matcher.offer(summary)
                if self.progress is not None:
                    self.progress.advance(len(page.items))

        return task

    def confirm(
        self, candidates: list[Difference], grace_seconds: float, *, workers: int
    ) -> list[Difference | Agreement]:
        """Read every candidate again, consistently, after the grace period; the verdict for each."""
        if not candidates:
            return []
        self.wait(grace_seconds)
        chunks = batches(candidates)
        verdicts: list[list[Difference | Agreement]] = [[] for _ in chunks]

        def task_for(index: int) -> Callable[[threading.Event], None]:
            def task(stop: threading.Event) -> None:
                check_stop(stop)
                keys = [c.keys for c in chunks[index]]
                sources = self.source.batch_get(keys, consistent=True)
                replicas = self.replica.batch_get(keys, consistent=True)
                now = self.clock()
                verdicts[index] = [
                    compare(k, sources.get(key_id(k)), replicas.get(key_id(k)), self.rules, now) for k in keys
                ]

            return task

        run_all([task_for(i) for i in range(len(chunks))], workers=workers, name="check-confirm")
        return [verdict for chunk in verdicts for verdict in chunk]
