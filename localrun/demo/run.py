"""``make demo``: the whole system on one machine, from an empty endpoint to rendered dashboards.

Order of events: start the embedded AWS (or use ``--endpoint-url``), create the tables and queues
from cdk.json, run ``python -m replicator doctor`` on them (the preflight an operator runs before
go-live), start both consumers under the local event source mapping, run the workload (the usage
merge function runs on a local schedule, at every progress line, as EventBridge runs it every
minute when deployed), drain the stream, merge the run's last minute, publish the metrics, render
the dashboards, run the consistency check and print the summary. The exit code is the check's.
Ctrl-C stops everything cleanly at any point.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from deployconfig.config import DeploymentConfig
from deployconfig.config import load as load_config
from localrun.aws.clients import AwsClients
from localrun.aws.credentials import FAKE_CREDENTIALS
from localrun.aws.deployment import LocalDeployment, provision
from localrun.aws.server import EmbeddedServer
from localrun.aws.ttl import TtlLedger, TtlSweeper
from localrun.cloudwatch.metrics import MetricsHub, percentile, series_key
from localrun.cloudwatch.observe import FunctionCounters, RunnerTelemetry, sample_queue_depth
from localrun.cloudwatch.render import render_all
from localrun.demo.report import (
    ActiveUsers,
    Commands,
    Figure,
    Summary,
    keep_running_text,
    progress_line,
    summary_text,
)
from localrun.demo.workload import Workload, WorkloadSettings
from localrun.esm import EventSourceMapping, SqsDestination, StreamRunner
from localrun.esm.settings import metrics_mapping, replicator_mapping
from localrun.invoke import handlers as parts
from localrun.invoke.capture import OutputRouter
from localrun.invoke.function import Function, invoke
from telemetry import catalogue as c
from telemetry.catalogue import SKIP_REASON, SkipReason

MERGE_GRACE_SECONDS = 3
"""The local merge's wait after a minute ends: local windows are seconds long and close at once."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    duration: float = 60.0
    users: int = 50
    rate: float = 20.0
    seed: int = 7
    endpoint_url: str | None = None
    keep_running: bool = False
    output: Path = Path("demo-output")
    window_seconds: int = 10
    shards: int = 4
    """Virtual shards per stream shard (moto's stream has one); 1: the stream's own shard only."""
    split_at: float | None = None
    """Seconds into the workload at which the first virtual shard is split (``None``: never)."""
    drain_timeout: float = 120.0
    progress_every: float = 5.0
    sweep_every: float = 1.0


@dataclass(slots=True)
class DemoRun:
    """Everything a run produced; the tests assert on it."""

    endpoint_url: str = ""
    summary: Summary | None = None
    counters: dict[str, FunctionCounters] = field(default_factory=dict)
    caught_up: bool = False
    series: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per dashboard: how many series had data, how many had none."""
    doctor: parts.CheckResult | None = None
    """The preflight's exit code and output (0: no check failed)."""


def doctor_options(cfg: DeploymentConfig, failure_queue_url: str) -> tuple[str, ...]:
    """The doctor's description of the setup: the replicator's settings as cdk.json gives them."""
    options = [
        "--state-table",
        cfg.state_table_name,
        "--ttl-deletes",
        cfg.ttl_deletes,
        "--tombstone-retention-hours",
        str(cfg.tombstone_retention_hours),
        "--failure-queue",
        failure_queue_url,
    ]
    if cfg.ttl_attribute:
        options += ["--ttl-attribute", cfg.ttl_attribute]
    for name in cfg.exclude_attributes:
        options += ["--exclude-attribute", name]
    return tuple(options)


def process_environment(embedded: bool) -> dict[str, str]:
    """Settings the handlers read when they create their own clients and EMF loggers."""
    env = {"AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "AWS_EMF_ENVIRONMENT": "Local"}
    if embedded:
        env.update(FAKE_CREDENTIALS)
    return env


@dataclass(slots=True)
class _Session:
    """What one run wires together on one endpoint."""

    url: str
    clients: AwsClients
    deployment: LocalDeployment
    hub: MetricsHub
    telemetry: RunnerTelemetry
    ledger: TtlLedger | None


@contextmanager
def _endpoint(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with EmbeddedServer() as server:
        yield server.url


class Demo:
    def __init__(
        self,
        options: DemoOptions,
        *,
        components: parts.Components | None = None,
        cfg: DeploymentConfig | None = None,
        say: Callable[[str], None] = print,
        stop: threading.Event | None = None,
    ) -> None:
        self.options = options
        self.cfg = cfg or load_config()
        self.embedded = options.endpoint_url is None
        # Before the handler modules are imported: the EMF library reads its settings at import.
        os.environ.update(process_environment(self.embedded))
        self.components = components or parts.load()
        self.say = say
        self.stop = stop or threading.Event()
        self.output = options.output.resolve()
        self.run_result = DemoRun()

    def run(self) -> DemoRun:
        cfg = self.cfg
        with _endpoint(self.options.endpoint_url) as url:
            self.run_result.endpoint_url = url
            self.say(f"AWS endpoint: {url} ({'embedded moto server' if self.embedded else 'given'})")
            clients = AwsClients(url, fake_credentials=self.embedded)
            clients.probe(cfg.source_region)  # a dead endpoint is named at once, not after retries
            self.output.mkdir(parents=True, exist_ok=True)  # only once the run can start
            deployment = provision(cfg, clients)
            self.say(
                f"created {cfg.table_name} with its stream and {cfg.usage_table_name} in "
                f"{cfg.source_region}, and {cfg.replica_table_name} in {cfg.replica_region}"
            )
            self._doctor(url, deployment)
            hub = MetricsHub(clients.cloudwatch)
            session = _Session(
                url=url,
                clients=clients,
                deployment=deployment,
                hub=hub,
                telemetry=RunnerTelemetry(hub, log_dir=self.output / "logs"),
                ledger=TtlLedger(cfg.ttl_attribute) if cfg.ttl_attribute else None,
            )
            self._run_on(session)
        return self.run_result

    def _doctor(self, url: str, deployment: LocalDeployment) -> None:
        """The operator's preflight on the tables just made: printed first, never stops the demo."""
        cfg = self.cfg
        result = self.components.doctor(
            parts.CheckRequest(
                source=f"{cfg.source_region}/{cfg.table_name}",
                replica=f"{cfg.replica_region}/{cfg.replica_table_name}",
                endpoint_url=url,
                json_path=self.output / "doctor.json",
                environ=process_environment(self.embedded),
                options=doctor_options(cfg, deployment.failure_queue_url),
            )
        )
        self.run_result.doctor = result
        verdict = {0: "no check failed", 1: "A CHECK FAILED", 2: "could not run"}.get(result.exit_code, "?")
        self.say("=== preflight: python -m replicator doctor " + "=" * 27)
        self.say(result.output or "(no output)")
        self.say(
            f"doctor: {verdict} (exit {result.exit_code}); the report is in {self.output / 'doctor.json'}"
        )

    def _mappings(self, session: _Session, router: OutputRouter) -> list[EventSourceMapping]:
        cfg, deployment = self.cfg, session.deployment
        replicator, metrics = parts.functions(cfg, self.components, session.url)
        sqs = session.clients.sqs(cfg.source_region)
        windowed = metrics_mapping(cfg, tumbling_window_seconds=self.options.window_seconds)
        return [
            EventSourceMapping(
                function=function,
                stream_arn=deployment.stream_arn,
                streams=session.clients.streams(cfg.source_region),
                settings=settings,
                router=router,
                destination=SqsDestination(sqs, queue_url),
                observer=session.telemetry,
                annotate=session.ledger.annotate if session.ledger else None,
                shards=self.options.shards,
                partition_key=cfg.partition_key.name,
            )
            for function, settings, queue_url in (
                (replicator, replicator_mapping(cfg), deployment.failure_queue_url),
                (metrics, windowed, deployment.metrics_failure_queue_url),
            )
        ]

    def _workload(self, session: _Session) -> tuple[Workload, TtlSweeper | None]:
        cfg, options = self.cfg, self.options
        source = session.clients.dynamodb(cfg.source_region)
        sweeper = None
        if session.ledger is not None and cfg.ttl_attribute:
            keys = [cfg.partition_key.name] + ([cfg.sort_key.name] if cfg.sort_key else [])
            sweeper = TtlSweeper(
                source,
                table=cfg.table_name,
                ttl_attribute=cfg.ttl_attribute,
                key_names=keys,
                ledger=session.ledger,
            )
        next_sweep = [0.0]

        def before_write(now: float) -> None:
            # The sweeper runs in the workload's thread, so a TTL delete never races a user's write.
            if sweeper is not None and now >= next_sweep[0]:
                sweeper.sweep(now)
                next_sweep[0] = now + options.sweep_every

        settings = WorkloadSettings(users=options.users, writes_per_second=options.rate, seed=options.seed)
        return Workload(source, cfg, settings, before_write=before_write), sweeper

    def _publish(self, session: _Session) -> None:
        cfg, deployment = self.cfg, session.deployment
        sqs = session.clients.sqs(cfg.source_region)
        for url, name in (
            (deployment.failure_queue_url, cfg.failure_queue_name),
            (deployment.metrics_failure_queue_url, cfg.metrics_failure_queue_name),
        ):
            sample_queue_depth(session.hub, sqs, region=cfg.source_region, queue_url=url, queue_name=name)
        session.hub.flush()

    def _merge(self, session: _Session, merge: Function, router: OutputRouter, **event: str) -> None:
        """One run of the usage merge, as its schedule would make it (its EMF goes to the hub)."""
        invocation = invoke(merge, dict(event), router=router)
        session.telemetry.invoked(merge, invocation, records=0, iterator_age_ms=None)
        if invocation.failed:
            self.say(f"warning: the usage merge failed ({invocation.error_type}: {invocation.error_message})")

    def _usage(self, session: _Session, metric: c.MetricSpec) -> dict[float, float]:
        """The merge's table-wide figure by timestamp (the largest, if a minute came twice)."""
        cfg = self.cfg
        key = series_key(cfg.source_region, cfg.usage_namespace, metric.name, [(c.TABLE, cfg.table_name)])
        latest: dict[float, float] = {}
        for stamp, value in session.hub.samples(key):
            latest[stamp] = max(value, latest.get(stamp, value))
        return latest

    def _active_users(self, session: _Session, workload: Workload) -> ActiveUsers:
        published = self._usage(session, c.ACTIVE_USERS)
        everyone = len(set().union(*workload.active.values()))

        def last(metric: c.MetricSpec) -> Figure:
            figures = self._usage(session, metric)
            return Figure(figures[max(figures)] if figures else None, everyone)

        return ActiveUsers(
            per_minute=tuple(
                (
                    time.strftime("%H:%M", time.gmtime(minute * 60)),
                    Figure(published.get(minute * 60.0), len(users)),
                )
                for minute, users in sorted(workload.active.items())
            ),
            daily=last(c.DAILY_ACTIVE_USERS),
            monthly=last(c.MONTHLY_ACTIVE_USERS),
        )

    def _replication(self, session: _Session, metric: str, *extra: tuple[str, str]) -> list[float]:
        cfg = self.cfg
        key = series_key(
            cfg.source_region, cfg.replication_namespace, metric, [("TableName", cfg.table_name), *extra]
        )
        return [value for _, value in session.hub.samples(key)]

    def _run_on(self, session: _Session) -> None:
        options = self.options
        router = OutputRouter()
        workload, sweeper = self._workload(session)
        # Handlers are built with the router installed: one that keeps a reference to sys.stdout
        # then keeps the router's, and its output still reaches the invocation that printed it.
        with router.installed(), StreamRunner(self._mappings(session, router), router).running() as runner:
            self.say(
                f"consumers: {options.shards} virtual shard{'s' if options.shards > 1 else ''} per stream "
                f"shard, by a hash of {self.cfg.partition_key.name}, each consumer on the same ones"
            )
            merge = parts.merge_function(
                self.cfg, self.components, session.url, grace_seconds=MERGE_GRACE_SECONDS
            )
            self.say(f"workload: {options.users} users, {options.rate:g} writes/s for {options.duration:g} s")
            started = time.time()
            writer = threading.Thread(
                target=workload.run, args=(options.duration, self.stop), name="workload", daemon=True
            )
            writer.start()
            split_due = None if options.split_at is None else started + options.split_at
            next_progress = started + options.progress_every
            try:
                while writer.is_alive():
                    due = next_progress if split_due is None else min(next_progress, split_due)
                    writer.join(max(0.0, due - time.time()))
                    if split_due is not None and time.time() >= split_due:
                        split_due = None
                        self._split(runner)
                    if time.time() < next_progress and writer.is_alive():
                        continue
                    next_progress = time.time() + options.progress_every
                    self._merge(session, merge, router)
                    self._publish(session)
                    lag = self._replication(session, "ReplicationLagMs")
                    p99 = percentile(lag, 99) if lag else None
                    counters = session.telemetry.snapshot()
                    self.say(progress_line(time.time() - started, workload.total, counters, p99))
            finally:
                self.stop.set()
                writer.join()
            if sweeper is not None:
                sweeper.sweep(time.time())
            self.say(f"workload done: {workload.total:,} writes; draining the stream")
            self.run_result.caught_up = runner.wait_caught_up(timeout=options.drain_timeout)
            if not self.run_result.caught_up:
                self.say(f"warning: the consumers had not caught up after {options.drain_timeout:g} s")
            # Every window has closed: merge up to the current minute now rather than after its grace.
            self._merge(session, merge, router, through=time.strftime("%Y-%m-%dT%H:%M", time.gmtime()))
            self._publish(session)
            self._finish(session, workload, sweeper.deleted if sweeper else 0, started)
            if options.keep_running:
                self._keep_running(session, started)

    def _split(self, runner: StreamRunner) -> None:
        """Split the first virtual shard in both consumers, as a shard split of the stream would."""
        parent = runner.mappings[0].shards[0]
        children = runner.split(parent)
        self.say(f"split virtual shard {parent} into {' and '.join(children)}")

    def _finish(self, session: _Session, workload: Workload, ttl_expiries: int, started: float) -> None:
        cfg = self.cfg
        writes = workload.total
        rendered = render_all(
            dataclasses.replace(cfg.dashboard_context(), window_seconds=self.options.window_seconds),
            session.hub,
            session.clients.cloudwatch,
            # From the run's first whole minute: the per-minute usage figures carry its start.
            start=started // 60 * 60,
            end=time.time(),
            output=self.output,
        )
        self.run_result.series = rendered.series
        check = self.components.check(
            parts.CheckRequest(
                source=f"{cfg.source_region}/{cfg.table_name}",
                replica=f"{cfg.replica_region}/{cfg.replica_table_name}",
                endpoint_url=session.url,
                json_path=self.output / "check.json",
                environ=process_environment(self.embedded),
            )
        )
        lag = self._replication(session, "ReplicationLagMs")
        counters = session.telemetry.snapshot()
        replicator = counters.get(cfg.replicator_function_name)
        self.run_result.summary = Summary(
            writes=writes,
            ttl_expiries=ttl_expiries,
            delivered=replicator.records if replicator else 0,
            replicated=sum(self._replication(session, "RecordsReplicated")),
            skipped=sum(self._replication(session, "RecordsSkipped")),
            skipped_by_reason={
                reason.value: sum(self._replication(session, "RecordsSkipped", (SKIP_REASON, reason.value)))
                for reason in SkipReason
            },
            failed=sum(self._replication(session, "RecordsFailed")),
            lag_p50_ms=percentile(lag, 50) if lag else None,
            lag_p99_ms=percentile(lag, 99) if lag else None,
            discarded=sum(c.discarded for c in session.telemetry.snapshot().values()),
            check_exit_code=check.exit_code,
            check_output=check.output,
            dashboards=rendered.images,
            index=rendered.index,
            active_users=self._active_users(session, workload),
        )
        self.run_result.counters = session.telemetry.snapshot()
        self.say(summary_text(self.run_result.summary))

    def _keep_running(self, session: _Session, started: float) -> None:
        cfg = self.cfg
        iso = "%Y-%m-%dT%H:%M:%SZ"
        self.say(
            keep_running_text(
                Commands(
                    endpoint_url=session.url,
                    source_region=cfg.source_region,
                    replica_region=cfg.replica_region,
                    table=cfg.table_name,
                    replica=cfg.replica_table_name,
                    aws=installed_program("aws") or "aws",
                    replicator_cli=installed_program("ddb-replicator")
                    or f"{shlex.quote(_shown(Path(sys.executable)))} -m replicator",
                    namespace=cfg.replication_namespace,
                    since=time.strftime(iso, time.gmtime(started - 60)),
                    until=time.strftime(iso, time.gmtime(time.time() + 24 * 3600)),
                )
            )
        )
        self.stop.clear()
        try:
            while not self.stop.wait(self.options.progress_every):
                self._publish(session)
        except KeyboardInterrupt:
            # Ctrl-C is how a kept-running demo ends: the exit code stays the check's.
            self.say("stopping")


def _shown(path: Path) -> str:
    """A path as a person at the current directory would type it (relative when inside it)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def installed_program(name: str) -> str | None:
    """``name`` from this interpreter's virtualenv (where ``make`` installed it), shell-quoted."""
    candidate = Path(sys.executable).parent / name
    return shlex.quote(_shown(candidate)) if candidate.is_file() else None
