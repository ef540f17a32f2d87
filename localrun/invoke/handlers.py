"""The parts of the system the local runtime runs but does not own: the handlers, the check and the
doctor.

They are reached only through their public entry points: ``create_handler(environ)`` in
``replicator.handler``, ``metrics.handler`` and ``metrics.merge`` (so handlers with different
settings can share one process), and the operator CLI, run by this interpreter as
``python -m replicator check`` (and ``doctor``) exactly as an operator runs it. They ship in the
same wheel as the local runtime, so none of this needs a source checkout or a particular working
directory. Everything else in the local runtime takes a :class:`Components`, so tests and
benchmarks can hand in their own collaborators.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from deployconfig.config import DeploymentConfig
from localrun.invoke.function import Function, HandlerFactory
from metrics.handler import create_handler as create_metrics_handler
from metrics.merge import create_handler as create_merge_handler
from replicator.handler import create_handler as create_replicator_handler


@dataclass(frozen=True, slots=True)
class CheckRequest:
    source: str
    """REGION/TABLE"""
    replica: str
    endpoint_url: str | None
    json_path: Path
    environ: Mapping[str, str]
    options: tuple[str, ...] = ()
    """More options of the command, e.g. ``("--failure-queue", URL)`` for the doctor."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    exit_code: int
    """0 consistent (doctor: no failure), 1 differences (a failure), 2 error: the CLI's contract."""
    output: str


CheckFn = Callable[[CheckRequest], CheckResult]


def _cli(command: str, request: CheckRequest) -> CheckResult:
    """``python -m replicator COMMAND``, exactly as an operator runs it."""
    argv = [
        sys.executable,
        "-m",
        "replicator",
        command,
        "--source",
        request.source,
        "--replica",
        request.replica,
    ]
    if request.endpoint_url:
        argv += ["--endpoint-url", request.endpoint_url]
    argv += ["--json", str(request.json_path), *request.options]
    done = subprocess.run(  # noqa: S603 (our own interpreter and module, no shell)
        argv,
        capture_output=True,
        text=True,
        env={**os.environ, **request.environ},
        check=False,
        timeout=600,
    )
    return CheckResult(done.returncode, (done.stdout + done.stderr).strip())


def cli_check(request: CheckRequest) -> CheckResult:
    """``python -m replicator check``: the demo's final consistency check."""
    return _cli("check", request)


def cli_doctor(request: CheckRequest) -> CheckResult:
    """``python -m replicator doctor``: the demo's preflight, once the tables and stream exist."""
    return _cli("doctor", request)


@dataclass(frozen=True, slots=True)
class Components:
    replicator: HandlerFactory
    metrics: HandlerFactory
    check: CheckFn
    doctor: CheckFn = cli_doctor
    merge: HandlerFactory = create_merge_handler


def load() -> Components:
    """The real handlers and the real check."""
    return Components(
        create_replicator_handler,
        create_metrics_handler,
        cli_check,
        doctor=cli_doctor,
        merge=create_merge_handler,
    )


def replicator_environment(cfg: DeploymentConfig, endpoint_url: str | None) -> dict[str, str]:
    """The replicator's environment as the CDK app sets it, plus the endpoint when there is one."""
    env = cfg.replicator_environment()
    if endpoint_url:
        env["REPLICA_ENDPOINT_URL"] = endpoint_url
    return env


def metrics_environment(cfg: DeploymentConfig, endpoint_url: str | None) -> dict[str, str]:
    """The usage-metrics function's environment as the CDK app sets it, with the usage table's
    region named (a local process has no AWS_REGION) and the endpoint when there is one."""
    env = {**cfg.metrics_environment(), "USAGE_TABLE_REGION": cfg.source_region}
    if endpoint_url:
        env["USAGE_ENDPOINT_URL"] = endpoint_url
    return env


def merge_function(
    cfg: DeploymentConfig, components: Components, endpoint_url: str | None, *, grace_seconds: int
) -> Function:
    """The usage merge function in the source region; ``grace_seconds`` as a local run needs it."""
    env = {
        **cfg.merge_environment(),
        **metrics_environment(cfg, endpoint_url),
        "MERGE_GRACE_SECONDS": str(grace_seconds),
    }
    return Function(
        name=cfg.merge_function_name,
        handler=components.merge(env),
        timeout_seconds=cfg.merge_timeout_seconds,
        memory_mb=cfg.merge_memory_mb,
        region=cfg.source_region,
    )


def functions(
    cfg: DeploymentConfig, components: Components, endpoint_url: str | None
) -> tuple[Function, Function]:
    """Both consumers as functions in the source region, with the deployment's names and limits."""
    replicator = Function(
        name=cfg.replicator_function_name,
        handler=components.replicator(replicator_environment(cfg, endpoint_url)),
        timeout_seconds=cfg.replicator_timeout_seconds,
        memory_mb=cfg.replicator_memory_mb,
        region=cfg.source_region,
    )
    metrics = Function(
        name=cfg.metrics_function_name,
        handler=components.metrics(metrics_environment(cfg, endpoint_url)),
        timeout_seconds=cfg.metrics_timeout_seconds,
        memory_mb=cfg.metrics_memory_mb,
        region=cfg.source_region,
    )
    return replicator, metrics
