"""Run the operator CLI in-process, as an operator would, on the test regions: no real sleeping,
every client it creates serialised to moto (see :mod:`tests.support.serial`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from faultlab.operator import CliRun, run_operator
from replicator.cli.commands import Runtime
from tests.support.replication import BASE_ENV, Harness

TABLES = ["--source", "us-east-1/Users", "--replica", "eu-west-1/Users"]
FAST = ["--grace-seconds", "0", "--retry-seconds", "30", "--no-progress"]


def run_cli(
    command: str,
    *args: str,
    grace_wait: Callable[[float], None] | None = None,
    on_page: Callable[[int, int], None] | None = None,
    instrument: Callable[[Any], None] | None = None,
    tables: Sequence[str] = TABLES,
    clock: Callable[[], float] | None = None,
) -> CliRun:
    runtime = Runtime(sleep=lambda _: None, grace_wait=grace_wait or (lambda _: None))
    if instrument is not None:
        runtime.instrument = instrument
    if on_page is not None:
        runtime.on_page = on_page
    if clock is not None:
        runtime.clock = clock
    return run_operator([command, *tables, *args], runtime=runtime)


def live_harness(regions: Any, **env: str) -> Harness:
    """A replicator on the test regions (moto's requests are serialised for every client)."""
    return Harness(regions, env={**BASE_ENV, **env})


def deliver_all(harness: Harness, regions: Any) -> None:
    """Deliver every new stream record; the replicator must apply them all."""
    response = harness.deliver(regions.tap.read_event())
    assert response == {"batchItemFailures": []}, harness.log_lines()[:3]
