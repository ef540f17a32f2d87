"""The demo end to end in a short mode, and the AWS CLI writing through its endpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import boto3
import pytest

from localrun.demo.run import Demo, DemoOptions
from localrun.invoke import handlers as parts
from replicator.core.schema import VERSION_ATTRIBUTE


@pytest.fixture(autouse=True)
def _restore_environment():
    """The demo exports settings for the handlers it runs; other tests must not inherit them."""
    with mock.patch.dict(os.environ):
        yield


AWS_CLI = Path(sys.executable).parent / "aws"  # awscli is a test dependency, next to this interpreter


# The first test stops the workload after this many writes (the demo's own progress lines say how
# many it made), so what it proves does not depend on how fast a loaded machine writes.
WRITES = 120


def _short(tmp_path: Path, **overrides: object) -> DemoOptions:
    settings: dict[str, object] = {
        "duration": 3.0,
        "users": 10,
        "rate": 40.0,
        "output": tmp_path / "out",
        "window_seconds": 1,
        "progress_every": 1.0,
        "drain_timeout": 30.0,
    }
    settings.update(overrides)
    return DemoOptions(**settings)  # type: ignore[arg-type]


def test_a_short_demo_replicates_everything_and_renders_the_dashboards(tmp_path):
    # GIVEN the demo with the system's own consumers, its workload stopped once it reports WRITES
    # writes (the duration is only an upper bound: a loaded machine takes longer, not fewer writes)
    lines: list[str] = []
    stop = threading.Event()

    def say(line: str) -> None:
        lines.append(line)
        written = re.search(r"\] writes ([\d,]+)", line)
        if written and int(written.group(1).replace(",", "")) >= WRITES:
            stop.set()

    # on four virtual shards (the default), one of which is split one second into the workload
    options = _short(tmp_path, duration=600.0, progress_every=0.25, split_at=1.0)
    assert options.shards == 4
    # WHEN it runs
    run = Demo(options, components=parts.load(), say=say, stop=stop).run()
    # THEN every change was replicated and the check found no difference
    summary = run.summary
    assert summary is not None and run.caught_up
    assert summary.writes >= WRITES
    # Every write and every TTL delete is replicated, or skipped as covered by a newer change.
    assert summary.replicated + summary.skipped >= summary.writes
    assert summary.replicated > summary.writes / 2
    assert summary.check_exit_code == 0, summary.check_output
    assert summary.lag_p99_ms is not None
    # AND both consumers ran, and the dashboards and their index were written
    assert {"Users-replicator", "Users-usage-metrics"} <= set(run.counters)
    assert all(counter.errors == 0 for counter in run.counters.values())
    assert summary.dashboards and all(path.stat().st_size > 20_000 for path in summary.dashboards)
    assert summary.index is not None
    index = summary.index.read_text()
    assert all(path.name in index for path in summary.dashboards)
    # AND most series of both dashboards have data (throttles and skips may rightly have none)
    assert run.series["replication"]["with_data"] >= 10
    assert run.series["usage"]["with_data"] >= 20
    # AND the usage merge published table-wide users equal to what the workload wrote: the day's
    # and the 30 days' exactly, each minute's within one user (the workload notes a write's minute
    # by its own clock; the table stamps it a moment later, possibly in the next minute)
    users = summary.active_users
    assert users is not None
    assert users.daily.published == users.daily.truth == users.monthly.published == users.monthly.truth
    assert users.daily.truth > 0 and users.per_minute
    for minute, figure in users.per_minute:
        assert figure.published is not None, minute
        assert abs(figure.published - figure.truth) <= 1, (minute, figure)
    # AND progress and the summary were printed
    text = "\n".join(lines)
    assert "writes" in text and "replication lag" in text and "consistent" in text
    assert "daily active users" in text and "monthly active users" in text
    # AND the operator's preflight ran first, on the tables just made, and found no failure; what the
    # local runtime emulates (the mappings, the function) is skipped with the reason, not faked
    assert run.doctor is not None and run.doctor.exit_code == 0, run.doctor
    assert text.index("python -m replicator doctor") < text.index("workload:")
    assert "Result: 9 pass, 4 skip: no failure found" in run.doctor.output
    assert "SKIP  stream-readers          no event source mapping on this endpoint" in run.doctor.output
    assert (tmp_path / "out" / "doctor.json").is_file()
    assert "consumers: 4 virtual shards per stream shard" in text
    assert re.search(r"split virtual shard \S+/4\.0 into \S+/4\.0\.0 and \S+/4\.0\.1", text), text


def test_the_aws_cli_writes_through_the_endpoint_and_the_item_reaches_the_replica(tmp_path):
    # GIVEN a demo kept running after its workload
    ready = threading.Event()
    stop = threading.Event()
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if "keeps running" in line:
            ready.set()

    demo = Demo(
        _short(tmp_path, duration=1.0, keep_running=True), components=parts.load(), say=say, stop=stop
    )
    worker = threading.Thread(target=demo.run)
    worker.start()
    try:
        assert ready.wait(60), "\n".join(lines)
        url = demo.run_result.endpoint_url
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        # WHEN the AWS CLI puts an item into the source table
        item = '{"user_id": {"S": "user-cli"}, "timestamp": {"N": "1"}, "plan": {"S": "pro"}}'
        subprocess.run(
            [
                str(AWS_CLI),
                "dynamodb",
                "put-item",
                "--endpoint-url",
                url,
                "--region",
                "us-east-1",
                "--table-name",
                "Users",
                "--item",
                item,
            ],
            check=True,
            env=env,
            capture_output=True,
            timeout=60,
        )
        # THEN it appears in the replica region
        replica = boto3.client(
            "dynamodb",
            region_name="eu-west-1",
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        key = {"user_id": {"S": "user-cli"}, "timestamp": {"N": "1"}}
        deadline = time.monotonic() + 120  # a bound on waiting for the outcome, not a speed check
        found = None
        while found is None and time.monotonic() < deadline:
            found = replica.get_item(TableName="Users", Key=key).get("Item")
            time.sleep(0.2)
        assert found is not None
        assert {name: value for name, value in found.items() if name != VERSION_ATTRIBUTE} == {
            **key,
            "plan": {"S": "pro"},
        }
    finally:
        stop.set()
        worker.join(60)
    assert not worker.is_alive()
