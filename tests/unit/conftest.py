"""The unit tier: pure code only. No moto, no server, no CDK, no network.

Two guards keep it that way. Every test here runs with outbound network connections refused.
When a run holds only unit tests (``make unit``), the session fails if moto, aws-cdk-lib or jsii
got imported, whoever imported them: a test, a support module or the code under test. That check
reads this process's modules, so it runs without xdist (``make unit`` does).

The run prints its own duration: the tier's budget is 30 s on a 2-core machine. It is printed, not
asserted: a wall-clock threshold would fail on a loaded machine, not on slow code.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FORBIDDEN = ("moto", "aws_cdk", "jsii")
BUDGET_SECONDS = 30
UNIT = Path(__file__).parent
_STARTED = time.perf_counter()  # conftest import: before collection, when only this tier runs
_run = pytest.StashKey[dict[str, Any]]()


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise OSError("the unit tier makes no network connections: move this test to tests/integration")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    yield


def pytest_collection_finish(session: pytest.Session) -> None:
    only_unit = bool(session.items) and all(item.path.is_relative_to(UNIT) for item in session.items)
    session.config.stash[_run] = {"only_unit": only_unit, "tests": len(session.items), "loaded": []}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = session.config.stash.get(_run, None)
    if run is None or not run["only_unit"]:
        return
    run["loaded"] = [name for name in FORBIDDEN if name in sys.modules]
    if run["loaded"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    run = terminalreporter.config.stash.get(_run, None)
    if run is None or not run["only_unit"]:
        return
    if run["loaded"]:
        terminalreporter.write_line(
            f"unit tier: FAILED: {', '.join(run['loaded'])} imported; tests that need them belong "
            "in tests/integration or tests/cdk",
            red=True,
        )
    elapsed = time.perf_counter() - _STARTED
    terminalreporter.write_line(
        f"unit tier: {run['tests']} tests in {elapsed:.1f} s (target: under {BUDGET_SECONDS} s)"
    )
