"""The fault rig: the whole system on the embedded server, with faults between the replicator and it.

What it wires together (the same parts as ``make demo``, minus the dashboards):

* the embedded moto server, with a :class:`~faultlab.ledger.ReplicaLedger` tapping every write the
  replica table accepts;
* the tables and failure queues of ``cdk.json`` (``localrun.aws.deployment.provision``);
* the replicator, built from the environment the CDK app gives it through its public factory
  (:func:`replicator.handler.build_replicator`), with a :class:`~faultlab.faults.FaultInjector` on
  its replica client (the factory's ``instrument`` option) and a
  :class:`~faultlab.sandbox.FaultySandbox` around its handler; the usage-metrics consumer in a
  sandbox of its own;
* both event source mappings (from ``TRIM_HORIZON``, so a backlog written before :meth:`running`
  is delivered in full batches), with an observer that keeps every invocation's output.

One deliberate difference from the deployment: the replicator starts a write attempt only when
``attempt_seconds`` remain before its deadline (the factory's ``attempt_seconds`` option), instead of
the 7 s its client timeouts allow for in AWS. Against a local endpoint an attempt takes
milliseconds, and this lets the suite use function timeouts of a few seconds. Everything else is the
replicator as deployed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from deployconfig.config import DeploymentConfig
from deployconfig.config import load as load_config
from faultlab.faults import NO_FAULTS, FaultInjector, FaultRates
from faultlab.ledger import ReplicaLedger
from faultlab.observations import InvocationSeen, Observations
from faultlab.operator import CliRun, run_operator
from faultlab.sandbox import FaultySandbox, SandboxRates
from faultlab.sequenced import Decorate, SequencedModel, SequencedSettings, SequencedWorkload
from faultlab.validate import (
    accounting_problems,
    ground_truth_differences,
    scan_items,
    table_differences,
    usage_problems,
    version_problems,
)
from localrun.aws.clients import AwsClients
from localrun.aws.deployment import LocalDeployment, provision
from localrun.aws.server import EmbeddedServer
from localrun.cloudwatch.metrics import MetricsHub
from localrun.cloudwatch.observe import RunnerTelemetry
from localrun.esm import EventSourceMapping, SqsDestination, StartingPosition, StreamRunner
from localrun.esm.runner import Annotate
from localrun.esm.settings import metrics_mapping, replicator_mapping
from localrun.invoke import handlers as parts
from localrun.invoke.capture import OutputRouter
from localrun.invoke.function import Function
from replicator.handler import build_replicator
from replicator.settings import from_environ


@dataclass(frozen=True, slots=True)
class RigSettings:
    seed: int = 1
    batch_size: int = 25
    max_retry_attempts: int = 5
    function_timeout: float = 3.0
    attempt_seconds: float = 0.25
    max_concurrent_writes: int = 16
    window_seconds: int = 1
    poll_interval_seconds: float = 0.1
    retry_backoff_cap: float = 0.4
    """Seconds between a mapping's retries of a batch: 0.05 doubling up to this."""
    rates: FaultRates = NO_FAULTS
    sandbox: SandboxRates = field(default_factory=SandboxRates)
    metrics_sandbox: SandboxRates = field(default_factory=SandboxRates)


def _backoff(cap: float) -> Callable[[int], float]:
    return lambda retries: min(cap, 0.05 * 2 ** max(0, retries - 1))


class FaultRig:
    """Use as a context manager; :meth:`running` runs both consumers in the background."""

    def __init__(
        self,
        settings: RigSettings | None = None,
        *,
        cfg: DeploymentConfig | None = None,
        annotate: Annotate | None = None,
    ) -> None:
        self.settings = settings or RigSettings()
        self.cfg = cfg or load_config()
        self.annotate = annotate
        cfg = self.cfg
        self.key_names = (cfg.partition_key.name, *([cfg.sort_key.name] if cfg.sort_key else []))
        self.ledger = ReplicaLedger(
            region=cfg.replica_region, table=cfg.replica_table_name, key_names=self.key_names
        )
        self.server = EmbeddedServer(tap=self.ledger)
        self.router = OutputRouter()
        self._stack = ExitStack()

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> FaultRig:
        self._stack.enter_context(self.server)
        self.url = self.server.url
        self.clients = AwsClients(self.url, fake_credentials=True)
        # Metrics are kept locally; hub.flush() publishes them to the embedded CloudWatch.
        self.hub = MetricsHub(self.clients.cloudwatch)
        self.observations = Observations(RunnerTelemetry(self.hub))
        self.deployment: LocalDeployment = provision(self.cfg, self.clients)
        # Handlers are built with the router installed: the replicator keeps the sys.stdout it was
        # built with, and its output must reach the invocation that printed it.
        self._stack.enter_context(self.router.installed())
        self._build_functions()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()

    def _build_functions(self) -> None:
        cfg, settings = self.cfg, self.settings
        environ = parts.replicator_environment(cfg, self.url)
        environ["MAX_CONCURRENT_WRITES"] = str(settings.max_concurrent_writes)
        injectors: list[FaultInjector] = []

        def inject(client: Any) -> None:
            injectors.append(
                FaultInjector(
                    client,
                    seed=settings.seed,
                    rates=settings.rates,
                    item_table=cfg.replica_table_name,
                    origin=cfg.replicator_function_name,
                )
            )

        replicator = build_replicator(
            from_environ(environ), instrument=inject, attempt_seconds=settings.attempt_seconds
        )
        (self.injector,) = injectors
        self.sandbox = FaultySandbox(
            replicator.handle,
            self.injector,
            settings.sandbox,
            seed=settings.seed,
            timeout_seconds=settings.function_timeout,
        )
        metrics = parts.load().metrics(parts.metrics_environment(cfg, self.url))
        self.metrics_sandbox = FaultySandbox(
            metrics,
            None,
            settings.metrics_sandbox,
            seed=settings.seed + 1,
            timeout_seconds=cfg.metrics_timeout_seconds,
        )
        self.functions = (
            Function(
                cfg.replicator_function_name,
                self.sandbox,
                timeout_seconds=settings.function_timeout,
                memory_mb=cfg.replicator_memory_mb,
                region=cfg.source_region,
            ),
            Function(
                cfg.metrics_function_name,
                self.metrics_sandbox,
                timeout_seconds=cfg.metrics_timeout_seconds,
                memory_mb=cfg.metrics_memory_mb,
                region=cfg.source_region,
            ),
        )

    def _mappings(self) -> list[EventSourceMapping]:
        cfg, settings = self.cfg, self.settings
        common = {
            "batch_size": settings.batch_size,
            "max_retry_attempts": settings.max_retry_attempts,
            "starting_position": StartingPosition.TRIM_HORIZON,
            "poll_interval_seconds": settings.poll_interval_seconds,
        }
        sqs = self.clients.sqs(cfg.source_region)
        replicator, metrics = self.functions
        deployment = self.deployment
        return [
            EventSourceMapping(
                function=function,
                stream_arn=deployment.stream_arn,
                streams=self.clients.streams(cfg.source_region),
                settings=mapping,
                router=self.router,
                destination=SqsDestination(sqs, queue_url),
                observer=self.observations,
                annotate=annotate,
                backoff=_backoff(settings.retry_backoff_cap),
            )
            for function, mapping, queue_url, annotate in (
                (
                    replicator,
                    dataclasses.replace(replicator_mapping(cfg), **common),  # type: ignore[arg-type]
                    deployment.failure_queue_url,
                    self.annotate,
                ),
                (
                    metrics,
                    dataclasses.replace(
                        metrics_mapping(cfg, tumbling_window_seconds=settings.window_seconds),
                        **common,  # type: ignore[arg-type]
                    ),
                    deployment.metrics_failure_queue_url,
                    None,
                ),
            )
        ]

    @contextmanager
    def running(self) -> Iterator[StreamRunner]:
        """Both consumers polling in the background until the block ends."""
        with self.router.installed(), StreamRunner(self._mappings(), self.router).running() as runner:
            self.runner = runner
            yield runner

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until both consumers processed everything written so far; raises if they do not."""
        if not self.runner.wait_caught_up(timeout=timeout):
            raise AssertionError(f"the consumers had not caught up after {timeout:g} s")

    # -- the system's state ----------------------------------------------------------------------

    def workload(self, settings: SequencedSettings, *, decorate: Decorate | None = None) -> SequencedWorkload:
        model = SequencedModel(self.cfg, settings, decorate=decorate)
        return SequencedWorkload(self.clients.dynamodb(self.cfg.source_region), self.cfg.table_name, model)

    def source_items(self) -> dict[str, dict[str, Any]]:
        return scan_items(self.clients.dynamodb(self.cfg.source_region), self.cfg.table_name, self.key_names)

    def replica_items(self) -> dict[str, dict[str, Any]]:
        client = self.clients.dynamodb(self.cfg.replica_region)
        return scan_items(client, self.cfg.replica_table_name, self.key_names)

    def queued_messages(self) -> dict[str, dict[str, Any]]:
        """The visible messages of the replicator's failure queue by id, left in the queue."""
        sqs = self.clients.sqs(self.cfg.source_region)
        url = self.deployment.failure_queue_url
        found: dict[str, dict[str, Any]] = {}
        handles: list[str] = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
            messages = batch.get("Messages", [])
            if not messages:
                break
            for message in messages:
                found[message["MessageId"]] = json.loads(message["Body"])
                handles.append(message["ReceiptHandle"])
        for handle in handles:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return found

    def failure_messages(self) -> list[dict[str, Any]]:
        """The bodies of :meth:`queued_messages` (Lambda's invocation records)."""
        return list(self.queued_messages().values())

    def queue_depth(self) -> int:
        """Messages in the failure queue, visible or held by a consumer (a redrive keeps them held)."""
        sqs = self.clients.sqs(self.cfg.source_region)
        found = sqs.get_queue_attributes(
            QueueUrl=self.deployment.failure_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        visible = int(found.get("ApproximateNumberOfMessages", "0"))
        return visible + int(found.get("ApproximateNumberOfMessagesNotVisible", "0"))

    def operator(self, command: str, *options: str, json_path: Path | None = None) -> CliRun:
        """``python -m replicator COMMAND`` on this rig's tables and endpoint."""
        cfg = self.cfg
        return run_operator(
            [
                command,
                "--source",
                f"{cfg.source_region}/{cfg.table_name}",
                "--replica",
                f"{cfg.replica_region}/{cfg.replica_table_name}",
                "--endpoint-url",
                self.url,
                *options,
                *(["--json", str(json_path)] if json_path else []),
            ]
        )

    def redrive(self, json_path: Path) -> CliRun:
        """``redrive`` of the replicator's failure queue (what an operator runs after an outage)."""
        queue = self.deployment.failure_queue_url
        return self.operator("redrive", "--queue-url", queue, "--wait-seconds", "0", json_path=json_path)

    def replicator_invocations(self) -> list[InvocationSeen]:
        return self.observations.of(self.cfg.replicator_function_name)

    def metrics_invocations(self) -> list[InvocationSeen]:
        return self.observations.of(self.cfg.metrics_function_name)

    # -- validators ------------------------------------------------------------------------------

    def problems(self, model: SequencedModel, *, exempt: Iterable[str] = ()) -> dict[str, list[str]]:
        """Every validator on the final state; call after :meth:`drain` (and any redrive)."""
        cfg = self.cfg
        source, replica = self.source_items(), self.replica_items()
        extra = {d.request_id: d.extra_records for d in self.sandbox.deliveries}
        return {
            "ground truth": ground_truth_differences(model.expected(), source),
            "replica = source": table_differences(source, replica, exempt=exempt),
            "versions never go backwards": version_problems(self.ledger.writes(), replica),
            "replicator metrics": accounting_problems(
                self.replicator_invocations(),
                self.injector.invocations,
                extra,
                namespace=cfg.replication_namespace,
                table=cfg.table_name,
            ),
            "usage metrics": usage_problems(
                self.metrics_invocations(),
                namespace=cfg.usage_namespace,
                table=cfg.table_name,
                writes=model.writes,
            ),
        }
