"""`make demo ARGS=--keep-running` prints commands that work pasted into a fresh terminal."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from unittest import mock

import pytest

from localrun.demo.run import Demo, DemoOptions
from localrun.invoke import handlers as parts

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _restore_environment():
    """The demo exports settings for the handlers it runs; other tests must not inherit them."""
    with mock.patch.dict(os.environ):
        yield


def commands(banner: str) -> list[str]:
    """The banner's shell commands (indented lines), with continuation lines joined."""
    return [line.strip() for line in banner.replace("\\\n", " ").splitlines() if line.startswith("  ")]


def one(found: list[str], *words: str) -> str:
    (command,) = [text for text in found if all(word in text.split() for word in words)]
    return command


def fresh_terminal(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` as a person would in a new terminal at the repository root: no inherited env."""
    return subprocess.run(
        ["bash", "-c", script],
        cwd=REPO,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_kept_running_banner_prints_commands_that_work_in_a_fresh_terminal(tmp_path):
    # GIVEN the demo kept running after a short workload
    ready, stop = threading.Event(), threading.Event()
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if "keeps running" in line:
            ready.set()

    options = DemoOptions(
        duration=1.0, users=5, rate=10.0, output=tmp_path / "out", window_seconds=1, keep_running=True
    )
    worker = threading.Thread(target=Demo(options, components=parts.load(), say=say, stop=stop).run)
    worker.start()
    try:
        assert ready.wait(120), "\n".join(lines)
        found = commands(next(line for line in lines if "keeps running" in line))
        export = one(found, "export")
        put, get = one(found, "dynamodb", "put-item"), one(found, "dynamodb", "get-item")
        check, repair = one(found, "check"), one(found, "repair")
        metric = one(found, "cloudwatch", "get-metric-statistics")
        # WHEN a person pastes the write, then (a moment later) the read, check, repair and metric
        assert fresh_terminal(f"{export}\n{put}").returncode == 0
        deadline = time.monotonic() + 30
        item = None
        while item is None and time.monotonic() < deadline:
            answer = fresh_terminal(f"{export}\n{get}")
            assert answer.returncode == 0, answer.stderr
            item = json.loads(answer.stdout).get("Item") if answer.stdout.strip() else None
            time.sleep(0.5)
        # THEN each works: the item is in the replica, the check and repair pass, the metric reads
        assert item is not None and item["plan"] == {"S": "pro"}
        for step in (check, repair):
            done = fresh_terminal(f"{export}\n{step}")
            assert done.returncode == 0, done.stdout + done.stderr
            assert "Traceback" not in done.stderr
        read = fresh_terminal(f"{export}\n{metric}")
        assert read.returncode == 0, read.stderr
        assert sum(point["Sum"] for point in json.loads(read.stdout)["Datapoints"]) > 0
    finally:
        stop.set()
        worker.join(60)
    assert not worker.is_alive()
