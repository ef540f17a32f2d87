"""Run the stream consumers outside Lambda, against real AWS or any endpoint, until stopped.

The same event source mapping emulation the demo uses, on an existing table's stream: the
replicator (and, if asked, the usage-metrics function) run in this process, checkpoints go to a
JSON file so a restart resumes where it stopped. Against real AWS nothing local is created; EMF
metrics are published with PutMetricData only when asked (``--publish-metrics``), and Lambda's own
``AWS/*`` metrics never are (that namespace belongs to AWS).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from deployconfig.config import DeploymentConfig
from localrun.aws.clients import AwsClients
from localrun.cloudwatch.metrics import MetricsHub
from localrun.cloudwatch.observe import RunnerTelemetry
from localrun.demo.report import progress_line
from localrun.errors import LocalRunError
from localrun.esm import CheckpointStore, EventSourceMapping, SqsDestination, StartingPosition, StreamRunner
from localrun.esm.failure import FailureDestination
from localrun.esm.settings import metrics_mapping, replicator_mapping
from localrun.invoke import handlers as parts
from localrun.invoke.capture import OutputRouter
from replicator.cli.doctor.guard import check_readers
from replicator.cli.doctor.readers import ALLOW_FLAG
from replicator.cli.errors import CliError
from replicator.cli.options import SideOptions, TableRef
from replicator.cli.sides import Side


@dataclass(frozen=True, slots=True)
class ServeOptions:
    endpoint_url: str | None = None
    functions: Sequence[str] = ("replicator",)
    checkpoints: Path = Path(".localrun-checkpoints.json")
    failure_queue_url: str | None = None
    metrics_failure_queue_url: str | None = None
    starting_position: StartingPosition | None = None
    """None: as deployed (the replicator from TRIM_HORIZON, the usage metrics from LATEST)."""
    publish_metrics: bool = False
    log_dir: Path | None = None
    progress_every: float = 30.0
    allow_third_reader: bool = False
    """Read the stream even when event source mappings already take its two readers."""


def stream_arn(cfg: DeploymentConfig, clients: AwsClients) -> str:
    if cfg.existing_stream_arn:
        return cfg.existing_stream_arn
    table = clients.dynamodb(cfg.source_region).describe_table(TableName=cfg.table_name)["Table"]
    arn = table.get("LatestStreamArn")
    if not arn:
        raise RuntimeError(f"table {cfg.table_name} in {cfg.source_region} has no stream to consume")
    return arn


def guard_readers(
    cfg: DeploymentConfig, options: ServeOptions, clients: AwsClients, say: Callable[[str], None]
) -> None:
    """Refuse to add this run's consumers to a stream whose two readers are taken (unless told).

    Each consumer here polls every shard like a mapping does, so it counts as one reader each. On an
    endpoint without Lambda's mappings (the embedded one) there is nothing to count and room for two.
    """
    side = Side(
        SideOptions(
            TableRef(cfg.source_region, cfg.table_name), options.endpoint_url, "--endpoint-url", None, None
        ),
        "source",
    )
    region = cfg.source_region
    who = f"python -m localrun run ({', '.join(options.functions)})"
    try:
        verdict = check_readers(
            side, clients.dynamodb(region), clients.lambda_(region), who=who, adding=len(options.functions)
        )
    except CliError as exc:
        raise LocalRunError(str(exc)) from None
    if verdict.warning:
        say(f"warning: {verdict.warning}")
    if verdict.refusal and not options.allow_third_reader:
        raise LocalRunError(verdict.refusal)
    if verdict.refusal:
        say(f"warning: reading the stream beside its event source mappings ({ALLOW_FLAG}): all are throttled")


def serve(
    cfg: DeploymentConfig,
    options: ServeOptions,
    *,
    components: parts.Components,
    clients: AwsClients,
    stop: threading.Event,
    say: Callable[[str], None] = print,
) -> dict[str, int]:
    """Consume the stream until ``stop`` is set; returns the records each function processed."""
    unknown = set(options.functions) - {"replicator", "metrics"}
    if unknown:
        raise ValueError(f"unknown function(s) {sorted(unknown)}: choose replicator and/or metrics")
    arn = stream_arn(cfg, clients)
    guard_readers(cfg, options, clients, say)
    router = OutputRouter()
    with router.installed():  # handlers that keep a reference to sys.stdout keep the router's
        replicator, metrics = parts.functions(cfg, components, options.endpoint_url)
    hub = MetricsHub(clients.cloudwatch if options.publish_metrics else None)
    telemetry = RunnerTelemetry(
        hub, log_dir=options.log_dir, service_metrics=options.endpoint_url is not None
    )
    sqs = clients.sqs(cfg.source_region)

    def destination(url: str | None) -> FailureDestination | None:
        return SqsDestination(sqs, url) if url else None

    plans = {
        "replicator": (replicator, replicator_mapping(cfg), destination(options.failure_queue_url)),
        "metrics": (metrics, metrics_mapping(cfg), destination(options.metrics_failure_queue_url)),
    }
    checkpoints = CheckpointStore(options.checkpoints)
    mappings = []
    for name in options.functions:
        function, settings, failures = plans[name]
        if options.starting_position is not None:
            settings = replace(settings, starting_position=options.starting_position)
        mappings.append(
            EventSourceMapping(
                function=function,
                stream_arn=arn,
                streams=clients.streams(cfg.source_region),
                settings=settings,
                router=router,
                destination=failures,
                checkpoints=checkpoints,
                observer=telemetry,
            )
        )
    say(f"consuming {arn} with {', '.join(m.function.name for m in mappings)}; Ctrl-C stops")
    started = time.time()
    with StreamRunner(mappings, router).running():
        while not stop.wait(options.progress_every):
            hub.flush()
            say(progress_line(time.time() - started, None, telemetry.snapshot(), None))
    hub.flush()
    return {name: counter.records for name, counter in telemetry.snapshot().items()}
