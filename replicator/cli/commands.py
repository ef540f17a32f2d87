"""Each subcommand: create the clients, wire the pieces, print the report, return the exit code."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from replicator.adapters.apply import Executor
from replicator.adapters.clients import CONNECT_TIMEOUT, READ_TIMEOUT
from replicator.adapters.reconcile import Reconciler
from replicator.adapters.writer import ReplicaWriter
from replicator.cli import report
from replicator.cli.backfill import Backfiller, BackfillState
from replicator.cli.check import Checker, CheckOptions
from replicator.cli.doctor.guard import GET_RECORDS_PER_SECOND_AS_THIRD_READER, check_readers
from replicator.cli.doctor.readers import ALLOW_FLAG
from replicator.cli.errors import ThirdReaderRefused, UsageError
from replicator.cli.exports.command import run_export_check
from replicator.cli.files import write_json
from replicator.cli.options import Options, writable_file
from replicator.cli.progress import Progress
from replicator.cli.redrive import Redriver, queue_region
from replicator.cli.repair import Repairer, verified
from replicator.cli.report_input import load_differences
from replicator.cli.results import CheckResult, KeyRepair, Status, Verdict
from replicator.cli.scan import Reader, TokenBucket
from replicator.cli.sides import Side, TableShape, describe, same_keys, ttl_attribute
from replicator.core.compare import Difference, Rules
from replicator.core.protocol import ReplicaTables
from replicator.core.schema import default_state_table
from replicator.handler import Replicator
from replicator.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

OK, DIFFERENCES, ERROR = 0, 1, 2


@dataclass
class Runtime:
    """What the command touches besides AWS; tests replace parts of it."""

    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    sleep: Callable[[float], None] = time.sleep  # backoff between retries
    grace_wait: Callable[[float], None] = time.sleep  # the check's grace period
    clock: Callable[[], float] = time.time  # "now" for TTL
    on_page: Callable[[int, int], None] = lambda segment, page: None  # after each backfill page
    instrument: Callable[[Any], None] = lambda client: None  # sees every boto3 client created

    def say(self, lines: list[str]) -> None:
        self.stdout.write("".join(f"{line}\n" for line in lines))
        self.stdout.flush()

    def warn(self, text: str) -> None:
        self.stderr.write(f"warning: {text}\n")
        self.stderr.flush()


@dataclass
class Wiring:
    """The two tables, their clients and the replicator's writer, built once per command."""

    opts: Options
    rt: Runtime
    source: Side = field(init=False)
    replica: Side = field(init=False)
    source_db: DynamoDBClient = field(init=False)
    replica_db: DynamoDBClient = field(init=False)
    shape: TableShape = field(init=False)
    writer: ReplicaWriter = field(init=False)

    def __post_init__(self) -> None:
        o = self.opts
        self.source = Side(o.source, "source")
        self.replica = Side(o.replica, "replica")
        pool = 2 * o.segments + 8
        self.source_db = self.source.dynamodb(max_connections=pool)
        self.replica_db = self.replica.dynamodb(max_connections=pool)
        self.rt.instrument(self.source_db)
        self.rt.instrument(self.replica_db)
        self.shape = describe(self.source_db, self.source, self.source.table, "source")
        same_keys(self.shape, describe(self.replica_db, self.replica, self.replica.table, "replica"))
        state_table = o.state_table or default_state_table(self.replica.table)
        if o.writes:  # only writes need the state table
            describe(self.replica_db, self.replica, state_table, "state")
        tables = ReplicaTables(self.replica.table, state_table, o.tombstone_retention_hours * 3600)
        self.writer = ReplicaWriter(self.replica_db, tables)

    def rules(self, *, with_ttl: bool) -> Rules:
        o = self.opts
        ttl = o.ttl_attribute
        if with_ttl and ttl is None:
            ttl = ttl_attribute(self.source_db, self.source.table)
        return Rules(
            key_names=self.shape.key_names,
            excluded=o.exclude_attributes,
            ignored=o.ignore_attributes,
            ttl_attribute=ttl or None,
        )

    def reader(self, which: str) -> Reader:
        o = self.opts
        client, table = (
            (self.source_db, self.source.table)
            if which == "source"
            else (self.replica_db, self.replica.table)
        )
        bucket = TokenBucket(o.max_read_units, sleep=self.rt.sleep)
        return Reader(client, table, which, bucket, retry_seconds=o.retry_seconds, sleep=self.rt.sleep)

    def progress(self, label: str, fraction: float = 1.0) -> Progress:
        total = self.shape.item_count
        return Progress(
            self.rt.stderr,
            label=label,
            total=int(total * fraction) or None if total else None,
            enabled=self.opts.progress,
        )


def check_options(opts: Options) -> CheckOptions:
    return CheckOptions(opts.segments, opts.page_size, opts.sample, opts.seed, opts.grace_seconds)


def _checker(w: Wiring, options: CheckOptions) -> Checker:
    both = 2 * (options.sample if options.sample is not None else 1.0)
    return Checker(
        w.reader("source"),
        w.reader("replica"),
        w.rules(with_ttl=True),
        clock=w.rt.clock,
        wait=w.rt.grace_wait,
        progress=w.progress("check", both),
    )


def _run_check(w: Wiring, options: CheckOptions) -> tuple[CheckResult, Checker]:
    """The scan check, or with --from-exports the export check; the checker, for re-reads."""
    checker = _checker(w, options)
    exports = w.opts.exports
    if exports is None:
        return checker.run(options), checker
    result = run_export_check(
        w.source,
        w.replica,
        checker,
        exports,
        grace_seconds=options.grace_seconds,
        workers=options.segments,
        stderr=w.rt.stderr,
        sleep=w.rt.sleep,
        clock=w.rt.clock,
    )
    return result, checker


def _repair_and_verify(w: Wiring, checker: Checker, differences: list[Difference]) -> list[KeyRepair]:
    """Repair each difference, then read the repaired keys again to verify them."""
    repairer = Repairer(
        Reconciler(w.writer),
        w.reader("source"),
        w.rules(with_ttl=False),
        w.source.table,
        attempts=w.opts.attempts,
        retry_seconds=w.opts.retry_seconds,
        sleep=w.rt.sleep,
    )
    opts = w.opts
    repairs = repairer.repair_all(differences, workers=opts.segments)
    repaired = [r.difference for r in repairs if r.status is Status.REPAIRED]
    verdicts = checker.confirm(repaired, opts.grace_seconds, workers=opts.segments)
    return verified(repairs, verdicts)


def _check_and_repair_all(w: Wiring, options: CheckOptions) -> tuple[CheckResult, list[KeyRepair]]:
    """Check, repair every confirmed difference, then read the repaired keys again to verify them."""
    result, checker = _run_check(w, options)
    return result, _repair_and_verify(w, checker, result.differences)


def deliver_report(rt: Runtime, path: Path | None, document: Any) -> None:
    """Write the --json report; when it cannot be written, say so and print it instead.

    The command has done its work by then (a repair has written): its exit code stays its result,
    and the report is not lost.
    """
    if path is None:
        return
    try:
        write_json(path, document)
    except OSError as exc:
        rt.warn(f"could not write the report to {str(path)!r} ({exc.strerror or exc}); it follows on stdout")
        rt.say([json.dumps(document, indent=1, sort_keys=True)])


def check(opts: Options, rt: Runtime) -> int:
    w = Wiring(opts, rt)
    if opts.repair:
        return _check_and_repair(w, opts)
    result, _ = _run_check(w, check_options(opts))
    rt.say(report.check_summary(result))
    deliver_report(rt, opts.json_path, report.check_document(result))
    return OK if result.consistent else DIFFERENCES


def _check_and_repair(w: Wiring, opts: Options) -> int:
    _warn_if_failures_pending(w, opts.failure_queue)
    result, repairs = _check_and_repair_all(w, check_options(opts))
    w.rt.say(report.check_summary(result) + report.repair_summary(repairs))
    document = {**report.check_document(result), "repairs": report.repair_document(repairs)}
    deliver_report(w.rt, opts.json_path, document)
    return OK if all(r.status is Status.REPAIRED for r in repairs) else DIFFERENCES


def repair(opts: Options, rt: Runtime) -> int:
    w = Wiring(opts, rt)
    if opts.from_report is None:
        return _check_and_repair(w, opts)
    _warn_if_failures_pending(w, opts.failure_queue)
    differences = load_differences(opts.from_report, w.shape.key_names)
    rt.say([f"Repairing the {len(differences):,} key(s) of {str(opts.from_report)!r} (no scan)."])
    repairs = _repair_and_verify(w, _checker(w, check_options(opts)), differences)
    rt.say(report.repair_summary(repairs))
    document = {"fromReport": str(opts.from_report), "repairs": report.repair_document(repairs)}
    deliver_report(rt, opts.json_path, document)
    return OK if all(r.status is Status.REPAIRED for r in repairs) else DIFFERENCES


def _warn_if_failures_pending(w: Wiring, queue: str | None) -> None:
    if not queue:
        return
    sqs = w.source.sqs(queue_region(queue, w.source.region))
    w.rt.instrument(sqs)
    url = w.source.queue_url(sqs, queue, "--failure-queue")
    names: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names).get("Attributes", {})
    pending = sum(int(attributes.get(name, 0)) for name in names)
    if pending:
        w.rt.warn(
            f"the failure queue holds {pending} message(s): run `redrive` first, then repair "
            "(a redrive after a repair is safe only while the high-water mark covers its records)"
        )


def default_state_file(table: str) -> Path:
    """``backfill-<table>.json`` in the current directory, if a file can be written there."""
    try:
        return writable_file(f"backfill-{table}.json")
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"the default --state-file: {exc}; name one with --state-file") from None


def backfill(opts: Options, rt: Runtime) -> int:
    path = opts.state_file or default_state_file(opts.source.ref.table)
    w = Wiring(opts, rt)
    state = BackfillState.load(
        path, source=str(w.source.ref), replica=str(w.replica.ref), total_segments=opts.segments
    )
    resumed = any(p.pages for p in state.segments.values())
    filler = Backfiller(
        w.reader("source"),
        Reconciler(w.writer),
        w.rules(with_ttl=False),
        w.source.table,
        state,
        path,
        page_size=opts.page_size,
        write_bucket=TokenBucket(opts.max_write_units, sleep=rt.sleep),
        on_page=rt.on_page,
        progress=w.progress("backfill"),
        retry_seconds=opts.retry_seconds,
        sleep=rt.sleep,
    )
    state.save(path)
    filler.run(workers=opts.segments)
    rt.say(
        [
            f"Backfill {'resumed and ' if resumed else ''}finished: {state.total('pages'):,} page(s); "
            f"written {state.total('written'):,}, skipped (already replicated or deleted) "
            f"{state.total('skipped'):,}, could not be copied {state.total('failed'):,}.",
            f"Run `check` to prove the replica converged; then delete {str(path)!r} (it holds keys).",
        ]
    )
    return OK if state.total("failed") == 0 else DIFFERENCES


def _reader_pace(w: Wiring, opts: Options, rt: Runtime) -> Callable[[], None]:
    """Refuse to read the stream as a third reader unless told; paced GetRecords when told."""
    lambda_ = w.source.client("lambda")
    rt.instrument(lambda_)
    verdict = check_readers(w.source, w.source_db, lambda_, who="redrive")
    if verdict.warning:
        rt.warn(verdict.warning)
    if not verdict.third_reader:
        return lambda: None
    if not opts.allow_third_reader:
        raise ThirdReaderRefused(f"{verdict.refusal}. Until then the failed batches wait in the queue.")
    rt.warn(
        f"reading the stream as a third reader ({ALLOW_FLAG}): GetRecords is paced at "
        f"{GET_RECORDS_PER_SECOND_AS_THIRD_READER:g} call(s) per second"
    )
    bucket = TokenBucket(GET_RECORDS_PER_SECOND_AS_THIRD_READER, sleep=rt.sleep)

    def pace() -> None:
        bucket.wait()
        bucket.charge(1)

    return pace


def redrive(opts: Options, rt: Runtime) -> int:
    assert opts.queue is not None  # required by the parser
    w = Wiring(opts, rt)
    pace = _reader_pace(w, opts, rt)
    sqs = w.source.sqs(opts.queue_region or queue_region(opts.queue, w.source.region))
    streams = w.source.streams()
    rt.instrument(sqs)
    rt.instrument(streams)
    settings = Settings(
        replica_table=w.replica.table,
        replica_region=w.replica.region,
        state_table=w.writer.tables.state,
        endpoint_url=w.replica.endpoint_url,
        ttl_policy=opts.ttl_deletes,
        exclude_attributes=opts.exclude_attributes,
        tombstone_retention_hours=opts.tombstone_retention_hours,
        max_concurrent_writes=16,
    )
    executor = Executor(max_workers=16, min_attempt_seconds=CONNECT_TIMEOUT + READ_TIMEOUT)
    redriver = Redriver(
        sqs,
        w.source.queue_url(sqs, opts.queue, "--queue-url"),
        streams,
        # Guarded puts: redrive replays old records while the live replicator may be deleting the
        # same keys, so each put checks the tombstone in its own transaction (docs/design.md).
        Replicator(settings, ReplicaWriter(w.replica_db, w.writer.tables, guarded_puts=True), executor),
        w.source.table,
        visibility_timeout=opts.visibility_timeout,
        max_messages=opts.max_messages,
        wait_seconds=opts.wait_seconds,
        pace=pace,
    )
    results = [redriver.handle(message) for message in redriver.messages()]
    rt.say(report.redrive_summary(results))
    document: dict[str, Any] = {"messages": report.redrive_document(results)}
    aged = [r for r in results if r.verdict is Verdict.AGED_OUT]
    repaired_all = True
    if aged and opts.repair_aged_out:
        rt.say([f"{len(aged)} range(s) aged out of the stream: repairing the table from the source."])
        check_result, repairs = _check_and_repair_all(w, check_options(opts))
        rt.say(report.check_summary(check_result) + report.repair_summary(repairs))
        document["agedOutRepair"] = {
            **report.check_document(check_result),
            "repairs": report.repair_document(repairs),
        }
        repaired_all = all(r.status is Status.REPAIRED for r in repairs)
        for result in aged:
            (redriver.delete if repaired_all else redriver.release)(result)
    elif aged:
        for result in aged:
            redriver.release(result)
        rt.warn(f"{len(aged)} range(s) aged out and were kept (--no-repair-aged-out); run `repair`")
    deliver_report(rt, opts.json_path, document)
    kept = [r for r in results if r.verdict not in (Verdict.APPLIED, Verdict.AGED_OUT)]
    return OK if not kept and (not aged or (opts.repair_aged_out and repaired_all)) else DIFFERENCES
