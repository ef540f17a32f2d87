"""The parts of the system the local runtime runs but does not own: both handlers and the check.

They are reached only through their public entry points: ``create_handler(environ)`` in
``replicator.handler`` and ``metrics.handler`` (the lead's convention, so two handlers with different
settings can share one process), and the operator CLI ``python -m replicator check``. Everything
else in the local runtime takes a :class:`Components`, so tests can hand in their own collaborators.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from deployconfig.config import DeploymentConfig
from localrun.invoke.function import Function, HandlerFactory

ROOT = Path(__file__).resolve().parents[2]


class MissingComponent(RuntimeError):
    """A part of the system the demo needs is not installed (or not written yet)."""


@dataclass(frozen=True, slots=True)
class CheckRequest:
    source: str
    """REGION/TABLE"""
    replica: str
    endpoint_url: str | None
    json_path: Path
    environ: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class CheckResult:
    exit_code: int
    """0 consistent, 1 differences, 2 error (the operator CLI's contract)."""
    output: str


CheckFn = Callable[[CheckRequest], CheckResult]


@dataclass(frozen=True, slots=True)
class Components:
    replicator: HandlerFactory
    metrics: HandlerFactory
    check: CheckFn


def _factory(module: str) -> HandlerFactory:
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        raise MissingComponent(
            f"{module} cannot be imported ({exc}); is that part of the system installed?"
        ) from exc
    create = getattr(loaded, "create_handler", None)
    if not callable(create):
        raise MissingComponent(f"{module} has no create_handler(environ) factory")
    return create  # type: ignore[no-any-return]


def cli_check(request: CheckRequest) -> CheckResult:
    """``python -m replicator check``, exactly as an operator runs it."""
    command = [
        sys.executable,
        "-m",
        "replicator",
        "check",
        "--source",
        request.source,
        "--replica",
        request.replica,
    ]
    if request.endpoint_url:
        command += ["--endpoint-url", request.endpoint_url]
    command += ["--json", str(request.json_path)]
    done = subprocess.run(  # noqa: S603 (our own interpreter and module, no shell)
        command,
        capture_output=True,
        text=True,
        env={**os.environ, **request.environ},
        cwd=ROOT,
        check=False,
        timeout=600,
    )
    return CheckResult(done.returncode, (done.stdout + done.stderr).strip())


def load() -> Components:
    """The real handlers and check, or one error naming everything that is missing."""
    problems = []
    found: dict[str, HandlerFactory] = {}
    for name in ("replicator.handler", "metrics.handler"):
        try:
            found[name] = _factory(name)
        except MissingComponent as exc:
            problems.append(str(exc))
    if problems:
        raise MissingComponent("the demo needs parts that are missing:\n  - " + "\n  - ".join(problems))
    check = cli_check if importlib.util.find_spec("replicator.__main__") is not None else unavailable_check
    return Components(found["replicator.handler"], found["metrics.handler"], check)


def unavailable_check(request: CheckRequest) -> CheckResult:
    """Used while ``python -m replicator`` is not installed: says so, and counts as an error (2)."""
    return CheckResult(2, "the consistency check is unavailable: python -m replicator is not installed")


def replicator_environment(cfg: DeploymentConfig, endpoint_url: str | None) -> dict[str, str]:
    """The replicator's environment as the CDK app sets it, plus the endpoint when there is one."""
    env = cfg.replicator_environment()
    if endpoint_url:
        env["REPLICA_ENDPOINT_URL"] = endpoint_url
    return env


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
        handler=components.metrics(cfg.metrics_environment()),
        timeout_seconds=cfg.metrics_timeout_seconds,
        memory_mb=cfg.metrics_memory_mb,
        region=cfg.source_region,
    )
    return replicator, metrics
