"""``check --from-exports``: compare two point-in-time exports on Spark, then confirm on the live tables.

1. The exports: both named, or both requested, the source's as of T and the replica's as of
   T + margin. The replica trails the source by the replication lag; with a margin longer than
   the lag, every change the source held at T has reached the replica by T + margin.
2. The Spark job compares them with the scan check's rule (:mod:`replicator.core.compare`) and
   writes every key that differs: a *candidate*. Keys the source changed between T and T + margin
   differ too (the replica's export already holds the newer change): they are in flight.
3. After ``--grace-seconds`` every candidate is read again, consistently, from both live tables
   (as the scan check confirms its candidates), and only the keys that still differ are reported;
   the others are counted as settled (in flight at the exports' times, or changed since).

Production tables are read only in step 3, and only for the candidates: the exports themselves
consume no read capacity (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.HowItWorks.html).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ddbstream import key_id
from jobs.export_interface import JobArgs
from replicator.cli.check import Checker
from replicator.cli.diff import MatchStats
from replicator.cli.exports.engines import JobFailed, SparkEngine, read_output
from replicator.cli.exports.locate import ExportRoot, Exports
from replicator.cli.exports.options import Engine, ExportOptions, S3Uri
from replicator.cli.exports.results import ExportFacts, ExportSide
from replicator.cli.results import CheckResult
from replicator.core.compare import Agreement, Difference
from replicator.permissions import RESULTS_PREFIX


@dataclass(frozen=True, slots=True)
class Tables:
    """The two tables' names, as the exports are requested for them."""

    source: str
    replica: str


@dataclass
class ExportChecker:
    source: Exports
    replica: Exports
    engine: SparkEngine
    checker: Checker
    """Only its consistent re-reads (:meth:`Checker.confirm`) and its rules are used."""
    say: Callable[[str], None]
    clock: Callable[[], float] = time.time

    def run(
        self, tables: Tables, options: ExportOptions, *, grace_seconds: float, workers: int
    ) -> CheckResult:
        started = time.monotonic()
        now = self.clock()
        source_root, replica_root = self._roots(tables, options, now)
        with tempfile.TemporaryDirectory(prefix="export-check-") as scratch:
            work = options.work_dir or Path(scratch)
            named = (source_root, replica_root)  # the report names the exports, not a local copy
            if self.engine.name is Engine.LOCAL:
                source_root = self.source.fetch(source_root, work / "source")
                replica_root = self.replica.fetch(replica_root, work / "replica")
            output = self._output(options, work, now)
            job_started = time.monotonic()
            self.engine.run(
                JobArgs.of(source_root.location, replica_root.location, output, self.checker.rules, now)
            )
            job_seconds = time.monotonic() - job_started
            summary, differences = read_output(output, self.source.s3)
            candidates = list(differences)
            facts = ExportFacts(
                source=self._side(self.source, source_root, summary.source_bytes, named[0]),
                replica=self._side(self.replica, replica_root, summary.replica_bytes, named[1]),
                engine=str(self.engine.name),
                job_seconds=job_seconds,
            )
        if facts.margin_seconds < 0:
            self.say(
                "warning: the replica's export is older than the source's: changes in between are "
                "candidates, settled by the re-reads below"
            )
        counted = sum(summary.differences.values())
        if counted != len(candidates):
            raise JobFailed(f"the job counted {counted} differences but wrote {len(candidates)}")
        self.say(f"the exports differ on {len(candidates):,} key(s); reading them again from the live tables")
        verdicts = self.checker.confirm(candidates, grace_seconds, workers=workers)
        confirmed = [v for v in verdicts if isinstance(v, Difference)]
        stats = MatchStats(
            source_items=summary.source_items,
            replica_items=summary.replica_items,
            matched=summary.matched,
            expired=summary.expired + sum(1 for v in verdicts if v is Agreement.EXPIRED),
        )
        return CheckResult(
            differences=sorted(confirmed, key=lambda d: (d.kind.value, key_id(d.keys))),
            stats=stats,
            candidates=len(candidates),
            settled=len(candidates) - len(confirmed),
            scanned_segments=0,
            total_segments=0,
            seconds=time.monotonic() - started,
            source_units=self.checker.source.bucket.consumed,
            replica_units=self.checker.replica.bucket.consumed,
            throttled=self.checker.source.throttled + self.checker.replica.throttled,
            exports=facts,
        )

    def _roots(self, tables: Tables, options: ExportOptions, now: float) -> tuple[ExportRoot, ExportRoot]:
        timeout = options.export_timeout_seconds
        if options.source_export is not None and options.replica_export is not None:
            return (
                self.source.locate(options.source_export, timeout_seconds=timeout),
                self.replica.locate(options.replica_export, timeout_seconds=timeout),
            )
        assert options.export_to is not None  # the options allow nothing else
        at = float(
            int(options.export_time if options.export_time is not None else now - options.margin_seconds)
        )
        source_arn = self.source.request(tables.source, at, options.export_to)
        replica_arn = self.replica.request(tables.replica, at + options.margin_seconds, options.export_to)
        return (
            self.source.completed(source_arn, timeout_seconds=timeout),
            self.replica.completed(replica_arn, timeout_seconds=timeout),
        )

    def _output(self, options: ExportOptions, work: Path, now: float) -> str:
        run = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        emr = options.emr
        if emr is None:
            return str(work / f"result-{run}")
        if emr.output is not None:
            return str(emr.output.join(run))
        assert options.export_to is not None  # the options require one of them for emr-serverless
        # The stack's job role writes only under results/ (replicator.permissions).
        return str(S3Uri(options.export_to.bucket, RESULTS_PREFIX).join(run))

    def _side(self, exports: Exports, root: ExportRoot, bytes_read: int, named: ExportRoot) -> ExportSide:
        summary = exports.summary(root)
        return ExportSide(
            location=named.location,
            arn=named.arn or summary.export_arn,
            export_time=summary.export_time,
            items=summary.item_count,
            billed_bytes=summary.billed_size_bytes,
            bytes_read=bytes_read,
        )
