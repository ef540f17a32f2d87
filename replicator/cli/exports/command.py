"""Wiring ``check --from-exports``: the clients of both sides, the engine, the export checker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO

from replicator.cli.check import Checker
from replicator.cli.exports.check import ExportChecker, Tables
from replicator.cli.exports.engines import EmrEngine, LocalEngine, SparkEngine
from replicator.cli.exports.locate import Exports
from replicator.cli.exports.options import Engine, ExportOptions
from replicator.cli.results import CheckResult
from replicator.cli.sides import Side


def run_export_check(
    source: Side,
    replica: Side,
    checker: Checker,
    options: ExportOptions,
    *,
    grace_seconds: float,
    workers: int,
    stderr: IO[str],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> CheckResult:
    def say(text: str) -> None:  # progress, as the scan check's, goes to standard error
        stderr.write(f"{text}\n")
        stderr.flush()

    # The exports' bucket is reached with the source side's credentials (docs/operations.md).
    s3 = source.client("s3")
    exports = [
        Exports(side.client("dynamodb"), s3, say, sleep=sleep, clock=clock) for side in (source, replica)
    ]
    engine: SparkEngine = (
        LocalEngine(say=say)
        if options.engine is Engine.LOCAL
        else _emr(options, source, s3=s3, say=say, sleep=sleep, clock=clock)
    )
    checker_ = ExportChecker(exports[0], exports[1], engine, checker, say, clock=clock)
    return checker_.run(
        Tables(source.table, replica.table), options, grace_seconds=grace_seconds, workers=workers
    )


def _emr(
    options: ExportOptions,
    source: Side,
    *,
    s3: object,
    say: Callable[[str], None],
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> SparkEngine:
    assert options.emr is not None  # the options require it for this engine
    return EmrEngine(options.emr, source.client("emr-serverless"), s3, say, sleep=sleep, clock=clock)
