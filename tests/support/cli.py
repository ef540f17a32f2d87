"""Run the operator CLI in-process, as an operator would, with its output captured."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replicator.cli.commands import Runtime
from replicator.cli.main import main
from tests.support.replication import BASE_ENV, Harness
from tests.support.serial import serialise

TABLES = ["--source", "us-east-1/Users", "--replica", "eu-west-1/Users"]
FAST = ["--grace-seconds", "0", "--retry-seconds", "30", "--no-progress"]


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str

    def json(self, path: Path) -> Any:
        return json.loads(path.read_text())


def run_cli(
    command: str,
    *args: str,
    grace_wait: Callable[[float], None] | None = None,
    on_page: Callable[[int, int], None] | None = None,
    instrument: Callable[[Any], None] | None = None,
    tables: Sequence[str] = TABLES,
    clock: Callable[[], float] | None = None,
) -> CliRun:
    out, err = io.StringIO(), io.StringIO()
    runtime = Runtime(stdout=out, stderr=err, sleep=lambda _: None)
    if grace_wait is not None:
        runtime.grace_wait = grace_wait
    else:
        runtime.grace_wait = lambda _: None
    if on_page is not None:
        runtime.on_page = on_page

    def instrumented(client: Any) -> None:
        serialise(client)
        if instrument is not None:
            instrument(client)

    runtime.instrument = instrumented
    if clock is not None:
        runtime.clock = clock
    code = main([command, *tables, *args], runtime=runtime)
    return CliRun(code, out.getvalue(), err.getvalue())


def live_harness(regions: Any, **env: str) -> Harness:
    """A replicator on the test regions whose requests, like the test's own, are serialised."""
    harness = Harness(regions, env={**BASE_ENV, **env})
    for client in (harness.replicator.writer.client, regions.source, regions.replica, regions.tap._client):
        serialise(client)
    return harness


def deliver_all(harness: Harness, regions: Any) -> None:
    """Deliver every new stream record; the replicator must apply them all."""
    response = harness.deliver(regions.tap.read_event())
    assert response == {"batchItemFailures": []}, harness.log_lines()[:3]
