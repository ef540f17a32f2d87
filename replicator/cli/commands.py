"""Each subcommand: create the clients, wire the pieces, print the report, return the exit code."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from replicator.adapters.apply import Executor
from replicator.adapters.clients import CONNECT_TIMEOUT, READ_TIMEOUT
from replicator.adapters.reconcile import Reconciler
from replicator.adapters.writer import ReplicaTables, ReplicaWriter
from replicator.cli import report
from replicator.cli.backfill import Backfiller, BackfillState
from replicator.cli.check import Checker, CheckOptions
from replicator.cli.diff import Rules
from replicator.cli.errors import UsageError
from replicator.cli.files import write_json
from replicator.cli.progress import Progress
from replicator.cli.redrive import Redriver, queue_region, queue_url
from replicator.cli.repair import Repairer, verified
from replicator.cli.results import CheckResult, KeyRepair, Status, Verdict
from replicator.cli.scan import Reader, TokenBucket
from replicator.cli.sides import Side, TableRef, TableShape, describe, same_keys, ttl_attribute
from replicator.core.policy import TtlPolicy
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

    args: argparse.Namespace
    rt: Runtime
    source: Side = field(init=False)
    replica: Side = field(init=False)
    source_db: DynamoDBClient = field(init=False)
    replica_db: DynamoDBClient = field(init=False)
    shape: TableShape = field(init=False)
    writer: ReplicaWriter = field(init=False)

    def __post_init__(self) -> None:
        a = self.args
        self.source = Side(
            TableRef.parse(a.source, "--source"),
            a.source_endpoint_url or a.endpoint_url,
            a.source_profile,
            a.source_role_arn,
        )
        self.replica = Side(
            TableRef.parse(a.replica, "--replica"),
            a.replica_endpoint_url or a.endpoint_url,
            a.replica_profile,
            a.replica_role_arn,
        )
        pool = 2 * a.segments + 8
        self.source_db = self.source.dynamodb(max_connections=pool)
        self.replica_db = self.replica.dynamodb(max_connections=pool)
        self.rt.instrument(self.source_db)
        self.rt.instrument(self.replica_db)
        self.shape = describe(self.source_db, self.source.table, "source")
        same_keys(self.shape, describe(self.replica_db, self.replica.table, "replica"))
        state_table = a.state_table or f"{self.replica.table}-replication-state"
        if a.command != "check" or a.repair:  # only writes need the state table
            describe(self.replica_db, state_table, "state")
        tables = ReplicaTables(self.replica.table, state_table, a.tombstone_retention_hours * 3600)
        self.writer = ReplicaWriter(self.replica_db, tables)

    def rules(self, *, with_ttl: bool) -> Rules:
        a = self.args
        ttl = getattr(a, "ttl_attribute", None)
        if with_ttl and ttl is None:
            ttl = ttl_attribute(self.source_db, self.source.table)
        return Rules(
            key_names=self.shape.key_names,
            excluded=frozenset(a.exclude_attribute),
            ignored=frozenset(getattr(a, "ignore_attribute", None) or ()),
            ttl_attribute=ttl or None,
        )

    def reader(self, which: str) -> Reader:
        a = self.args
        client, table = (
            (self.source_db, self.source.table)
            if which == "source"
            else (self.replica_db, self.replica.table)
        )
        rate = a.max_read_units if a.max_read_units > 0 else None
        bucket = TokenBucket(rate, sleep=self.rt.sleep)
        return Reader(client, table, which, bucket, retry_seconds=a.retry_seconds, sleep=self.rt.sleep)

    def progress(self, label: str, fraction: float = 1.0) -> Progress:
        total = self.shape.item_count
        return Progress(
            self.rt.stderr,
            label=label,
            total=int(total * fraction) or None if total else None,
            enabled=self.args.progress,
        )


def check_options(args: argparse.Namespace) -> CheckOptions:
    if args.sample is not None and not 0 < args.sample <= 1:
        raise UsageError(f"--sample must be a fraction in (0, 1]; got {args.sample}")
    if args.grace_seconds < 0:
        raise UsageError("--grace-seconds must not be negative")
    return CheckOptions(args.segments, args.page_size or None, args.sample, args.seed, args.grace_seconds)


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


def _check_and_repair_all(w: Wiring, options: CheckOptions) -> tuple[CheckResult, list[KeyRepair]]:
    """Check, repair every confirmed difference, then read the repaired keys again to verify them."""
    checker = _checker(w, options)
    result = checker.run(options)
    repairer = Repairer(
        Reconciler(w.writer),
        w.reader("source"),
        w.rules(with_ttl=False),
        w.source.table,
        attempts=w.args.attempts,
        retry_seconds=w.args.retry_seconds,
        sleep=w.rt.sleep,
    )
    repairs = repairer.repair_all(result.differences, workers=options.segments)
    repaired = [r.difference for r in repairs if r.status is Status.REPAIRED]
    verdicts = checker.confirm(repaired, options.grace_seconds, workers=options.segments)
    return result, verified(repairs, verdicts)


def check(args: argparse.Namespace, rt: Runtime) -> int:
    w = Wiring(args, rt)
    if args.repair:
        return _check_and_repair(w, args)
    options = check_options(args)
    result = _checker(w, options).run(options)
    rt.say(report.check_summary(result))
    if args.json:
        write_json(Path(args.json), report.check_document(result))
    return OK if result.consistent else DIFFERENCES


def _check_and_repair(w: Wiring, args: argparse.Namespace) -> int:
    _warn_if_failures_pending(w, getattr(args, "failure_queue", None))
    result, repairs = _check_and_repair_all(w, check_options(args))
    w.rt.say(report.check_summary(result) + report.repair_summary(repairs))
    if args.json:
        write_json(
            Path(args.json), {**report.check_document(result), "repairs": report.repair_document(repairs)}
        )
    return OK if all(r.status is Status.REPAIRED for r in repairs) else DIFFERENCES


def repair(args: argparse.Namespace, rt: Runtime) -> int:
    return _check_and_repair(Wiring(args, rt), args)


def _warn_if_failures_pending(w: Wiring, queue: str | None) -> None:
    if not queue:
        return
    sqs = w.source.sqs(queue_region(queue, w.source.region))
    w.rt.instrument(sqs)
    url = queue_url(sqs, queue)
    names: Any = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names).get("Attributes", {})
    pending = sum(int(attributes.get(name, 0)) for name in names)
    if pending:
        w.rt.warn(
            f"the failure queue holds {pending} message(s): run `redrive` first, then repair "
            "(a redrive after a repair is safe only while the high-water mark covers its records)"
        )


def backfill(args: argparse.Namespace, rt: Runtime) -> int:
    w = Wiring(args, rt)
    path = Path(args.state_file or f"backfill-{w.source.table}.json")
    state = BackfillState.load(
        path, source=str(w.source.ref), replica=str(w.replica.ref), total_segments=args.segments
    )
    resumed = any(p.pages for p in state.segments.values())
    rate = args.max_write_units if args.max_write_units > 0 else None
    filler = Backfiller(
        w.reader("source"),
        Reconciler(w.writer),
        w.rules(with_ttl=False),
        w.source.table,
        state,
        path,
        page_size=args.page_size or None,
        write_bucket=TokenBucket(rate, sleep=rt.sleep),
        on_page=rt.on_page,
        progress=w.progress("backfill"),
        retry_seconds=args.retry_seconds,
        sleep=rt.sleep,
    )
    state.save(path)
    filler.run(workers=args.segments)
    rt.say(
        [
            f"Backfill {'resumed and ' if resumed else ''}finished: {state.total('pages'):,} page(s); "
            f"written {state.total('written'):,}, skipped (already replicated or deleted) "
            f"{state.total('skipped'):,}, could not be copied {state.total('failed'):,}.",
            f"Run `check` to prove the replica converged; then delete {str(path)!r} (it holds keys).",
        ]
    )
    return OK if state.total("failed") == 0 else DIFFERENCES


def redrive(args: argparse.Namespace, rt: Runtime) -> int:
    if args.sample is not None:
        raise UsageError("--sample cannot be used with redrive: an aged-out range may touch any key")
    w = Wiring(args, rt)
    sqs = w.source.sqs(args.queue_region or queue_region(args.queue_url, w.source.region))
    streams = w.source.streams()
    rt.instrument(sqs)
    rt.instrument(streams)
    settings = Settings(
        replica_table=w.replica.table,
        replica_region=w.replica.region,
        state_table=w.writer.tables.state,
        endpoint_url=w.replica.endpoint_url,
        ttl_policy=TtlPolicy(args.ttl_deletes),
        exclude_attributes=frozenset(args.exclude_attribute),
        tombstone_retention_hours=args.tombstone_retention_hours,
        max_concurrent_writes=16,
    )
    executor = Executor(max_workers=16, min_attempt_seconds=CONNECT_TIMEOUT + READ_TIMEOUT)
    redriver = Redriver(
        sqs,
        queue_url(sqs, args.queue_url),
        streams,
        Replicator(settings, w.writer, executor),  # only its typed results are read
        w.source.table,
        visibility_timeout=args.visibility_timeout,
        max_messages=args.max_messages,
        wait_seconds=args.wait_seconds,
    )
    results = [redriver.handle(message) for message in redriver.messages()]
    rt.say(report.redrive_summary(results))
    document: dict[str, Any] = {"messages": report.redrive_document(results)}
    aged = [r for r in results if r.verdict is Verdict.AGED_OUT]
    repaired_all = True
    if aged and args.repair_aged_out:
        rt.say([f"{len(aged)} range(s) aged out of the stream: repairing the table from the source."])
        check_result, repairs = _check_and_repair_all(w, check_options(args))
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
    if args.json:
        write_json(Path(args.json), document)
    kept = [r for r in results if r.verdict not in (Verdict.APPLIED, Verdict.AGED_OUT)]
    return OK if not kept and (not aged or (args.repair_aged_out and repaired_all)) else DIFFERENCES
