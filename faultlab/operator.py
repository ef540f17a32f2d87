"""The operator CLI (``python -m replicator``) run in-process, its output and ``--json`` report captured.

The one in-process driver of the CLI: the fault lab, the tests and the benchmarks all call
:func:`run_operator` and read a :class:`CliRun`. Each passes a
:class:`~replicator.cli.commands.Runtime` with what it replaces (no real sleeping, hooks on every
client the command creates); standard output and standard error are always captured. The demo's
check runs the CLI as a separate process instead (``localrun.invoke.handlers``): that is its real
out-of-process check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replicator.cli.commands import Runtime
from replicator.cli.main import main


@dataclass(frozen=True, slots=True)
class CliRun:
    """One ``python -m replicator`` command, run in-process."""

    argv: tuple[str, ...]
    code: int
    """The exit code: 0 done (consistent), 1 differences or records kept, 2 error."""
    stdout: str
    stderr: str
    document: Any
    """The parsed ``--json`` report when one was asked for and written, else None."""

    @property
    def output(self) -> str:
        """Standard output, then standard error."""
        return self.stdout + self.stderr


def _json_path(argv: Sequence[str]) -> Path | None:
    for option, value in zip(argv, [*argv[1:], None], strict=True):
        if option == "--json" and value is not None:
            return Path(value)
        if option.startswith("--json="):
            return Path(option.removeprefix("--json="))
    return None


def run_operator(argv: Sequence[str], *, runtime: Runtime | None = None) -> CliRun:
    """``python -m replicator ARGV`` in this process; ``runtime`` keeps its hooks, not its streams."""
    stdout, stderr = io.StringIO(), io.StringIO()
    captured = dataclasses.replace(runtime or Runtime(), stdout=stdout, stderr=stderr)
    try:
        # argparse reports a bad option on sys.stderr and exits 2, before the runtime is used.
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(list(argv), runtime=captured)
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else 2
    path = _json_path(argv)
    document = json.loads(path.read_text()) if path is not None and path.is_file() else None
    return CliRun(tuple(argv), code, stdout.getvalue(), stderr.getvalue(), document)
