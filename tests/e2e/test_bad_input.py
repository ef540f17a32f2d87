"""A newcomer's bad inputs, run as a person runs them: exit code 2, one clear line, no traceback,
no hang, and nothing written: the replica and the user's files are exactly as before.

Each case runs the real command (``python -m replicator`` or ``python -m localrun demo``) in a fresh
process against an embedded server whose replica is missing items, so any work done by mistake
(a repair, a backfill, a report, a state file) would show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployconfig.config import load as load_config
from localrun.aws.clients import AwsClients
from localrun.aws.deployment import provision
from localrun.aws.server import EmbeddedServer

TABLES = ["--source", "us-east-1/Users", "--replica", "eu-west-1/Users"]
FAST = ["--grace-seconds", "0", "--retry-seconds", "5", "--no-progress"]
CHECKOUT = Path(__file__).resolve().parents[2]
SECONDS = 30  # a hang detector, not a speed requirement: every case is an early error


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory) -> Iterator[str]:
    """An embedded server with the deployment's tables; the source holds items the replica lacks."""
    with EmbeddedServer() as server:
        clients = AwsClients(server.url, fake_credentials=True)
        provision(load_config(), clients)
        source = clients.dynamodb("us-east-1")
        for i in range(3):
            source.put_item(TableName="Users", Item={"user_id": {"S": f"u{i}"}, "timestamp": {"N": str(i)}})
        yield server.url


def replica_snapshot(url: str) -> str:
    """Everything a mistaken write could touch in the replica region, as text."""
    client = AwsClients(url, fake_credentials=True).dynamodb("eu-west-1")
    tables = {}
    for table in ("Users", "Users-replication-state"):
        items = client.scan(TableName=table, ConsistentRead=True)["Items"]
        tables[table] = sorted(json.dumps(item, sort_keys=True) for item in items)
    return json.dumps(tables)


def files_snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(folder)): (path.read_bytes() if path.is_file() else None)
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A user's working folder: a directory, a plain file, and state files that are not ours."""
    (tmp_path / "reports").mkdir()
    (tmp_path / "afile").write_text("mine\n")
    (tmp_path / "state-list.json").write_text("[]\n")
    (tmp_path / "state-broken.json").write_text("{not json\n")
    return tmp_path


def cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "replicator", *argv]


def demo(*argv: str) -> list[str]:
    return [sys.executable, "-m", "localrun", "demo", *argv]


CASES = [
    # numbers out of range, refused rather than hanging or meaning something else
    pytest.param(cli("check", *TABLES, "--page-size", "-5"), "--page-size", id="page-size-negative"),
    pytest.param(cli("check", *TABLES, "--page-size", "0"), "--page-size", id="page-size-zero"),
    pytest.param(cli("check", *TABLES, "--max-read-units", "-1"), "--max-read-units", id="read-units"),
    pytest.param(cli("check", *TABLES, "--segments", "0"), "--segments", id="segments"),
    pytest.param(cli("check", *TABLES, "--sample", "1.5"), "--sample", id="sample"),
    pytest.param(cli("check", *TABLES, "--grace-seconds", "-1"), "--grace-seconds", id="grace"),
    pytest.param(cli("check", *TABLES, "--retry-seconds", "0"), "--retry-seconds", id="retry-seconds"),
    pytest.param(cli("repair", *TABLES, "--tombstone-retention-hours", "0"), "25", id="retention"),
    pytest.param(cli("redrive", *TABLES, "--queue-url", "q", "--wait-seconds", "30"), "20", id="wait"),
    pytest.param(
        cli("check", "--source", "Users", "--replica", "eu-west-1/Users"), "REGION/TABLE", id="table"
    ),
    pytest.param(cli("check", *TABLES, "--source-role-arn", "admin"), "arn:aws:iam::", id="role-arn"),
    # endpoints: malformed, dead, or a table that is not there
    pytest.param(cli("check", *TABLES, "--endpoint-url", "{host}"), "http://", id="endpoint-no-scheme"),
    pytest.param(cli("check", *TABLES, "--endpoint-url", "http://127.0.0.1:9"), "127.0.0.1:9", id="dead"),
    pytest.param(
        cli("check", "--source", "us-east-1/Nope", "--replica", "eu-west-1/Users", "--endpoint-url", "{url}"),
        "'Nope' does not exist",
        id="missing-table",
    ),
    # files: checked before any work, so nothing is scanned, repaired or left behind
    pytest.param(
        cli("repair", *TABLES, *FAST, "--endpoint-url", "{url}", "--json", "reports"),
        "is a directory",
        id="repair-json-directory",
    ),
    pytest.param(
        cli("check", *TABLES, *FAST, "--endpoint-url", "{url}", "--json", "nowhere/report.json"),
        "does not exist",
        id="check-json-missing-folder",
    ),
    pytest.param(
        cli("check", *TABLES, *FAST, "--endpoint-url", "{url}", "--json", "afile/report.json"),
        "--json",
        id="check-json-under-a-file",
    ),
    pytest.param(
        cli("backfill", *TABLES, "--endpoint-url", "{url}", "--state-file", "state-list.json"),
        "not a backfill state file",
        id="state-file-list",
    ),
    pytest.param(
        cli("backfill", *TABLES, "--endpoint-url", "{url}", "--state-file", "state-broken.json"),
        "not a backfill state file",
        id="state-file-broken",
    ),
    # who the user is, and what they named
    pytest.param(
        cli("check", *TABLES, "--source-profile", "nope"), "'nope' (--source-profile)", id="profile"
    ),
    pytest.param(["AWS_PROFILE=nope", *cli("check", *TABLES)], "'nope' (the AWS_PROFILE", id="aws-profile"),
    pytest.param(
        cli("redrive", *TABLES, *FAST, "--endpoint-url", "{url}", "--queue-url", "no-such-queue"),
        "'no-such-queue' (--queue-url) does not exist",
        id="queue",
    ),
    # the doctor: its options, a dead endpoint, a report path that is a folder
    pytest.param(cli("doctor", *TABLES, "--function", " "), "--function", id="doctor-blank-function"),
    pytest.param(
        cli("doctor", *TABLES, "--endpoint-url", "http://127.0.0.1:9"), "127.0.0.1:9", id="doctor-dead"
    ),
    pytest.param(
        cli("doctor", *TABLES, "--endpoint-url", "{url}", "--json", "reports"),
        "is a directory",
        id="doctor-json",
    ),
    # the demo
    pytest.param(
        demo("--endpoint-url", "http://127.0.0.1:9", "--output", "out"), "127.0.0.1:9", id="demo-dead"
    ),
    pytest.param(demo("--endpoint-url", "{host}"), "http://", id="demo-endpoint-no-scheme"),
    pytest.param(demo("--output", "afile/out"), "is a file", id="demo-output-under-a-file"),
    pytest.param(demo("--duration", "-1"), "--duration", id="demo-duration"),
]


@pytest.mark.parametrize(("argv", "expected"), CASES)
def test_bad_input_exits_2_with_a_clear_line_and_changes_nothing(
    endpoint, user_folder, tmp_path_factory, argv, expected
):
    # GIVEN the replica and the user's files as they are
    host = endpoint.removeprefix("http://")
    argv = [part.replace("{url}", endpoint).replace("{host}", host) for part in argv]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path_factory.mktemp("home")),  # caches (matplotlib's) are not the user's files
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(user_folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(user_folder / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # The code of this checkout, not whatever copy the virtualenv installed (an editable install
        # of another worktree would otherwise answer: the commands run in the user's folder).
        "PYTHONPATH": str(CHECKOUT),
    }
    while "=" in argv[0]:  # leading NAME=value words set the environment, as in a shell
        name, _, value = argv.pop(0).partition("=")
        env[name] = value
    replica_before, files_before = replica_snapshot(endpoint), files_snapshot(user_folder)
    # WHEN the command runs in the user's folder
    done = subprocess.run(
        argv, cwd=user_folder, env=env, capture_output=True, text=True, timeout=SECONDS, check=False
    )
    # THEN it stops with exit code 2 and says what was wrong, in one place, without a traceback
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert expected in done.stderr, done.stderr
    # AND nothing was written: not the replica, not the user's files (no report, state or temp file)
    assert replica_snapshot(endpoint) == replica_before
    assert files_snapshot(user_folder) == files_before
