"""The operator CLI (``python -m replicator``), run in-process against a local endpoint."""

from __future__ import annotations

import importlib
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployconfig.config import DeploymentConfig


@dataclass(frozen=True, slots=True)
class CliRun:
    """One ``python -m replicator`` command, run in-process against the rig's endpoint."""

    argv: tuple[str, ...]
    exit_code: int
    output: str
    """Standard output and standard error."""
    document: dict[str, Any] | None
    """The ``--json`` report, when one was asked for."""


def run_operator(
    cfg: DeploymentConfig, endpoint_url: str, command: str, *options: str, json_path: Path | None = None
) -> CliRun:
    """``python -m replicator COMMAND --source ... --replica ... --endpoint-url URL OPTIONS [--json]``."""
    argv = [
        command,
        "--source",
        f"{cfg.source_region}/{cfg.table_name}",
        "--replica",
        f"{cfg.replica_region}/{cfg.replica_table_name}",
        "--endpoint-url",
        endpoint_url,
        *options,
        *(["--json", str(json_path)] if json_path else []),
    ]
    # Imported when used: the local runtime reaches the CLI only through its public entry point.
    cli = importlib.import_module("replicator.cli.main")
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = int(cli.main(argv))
    document = json.loads(json_path.read_text()) if json_path and json_path.exists() else None
    return CliRun(tuple(argv), code, out.getvalue(), document)
