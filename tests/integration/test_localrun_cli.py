"""``python -m localrun``: arguments, help, and a clear error when the ``local`` extra is missing.

Not a unit test: importing the CLI loads the embedded moto server
(localrun.demo.run -> localrun.aws.server).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import metrics.handler
import replicator.handler
from localrun import cli
from localrun.invoke import handlers as parts

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_help_names_every_option():
    text = cli.demo_help()
    for option in (
        "--duration",
        "--users",
        "--rate",
        "--endpoint-url",
        "--keep-running",
        "--output",
        "--window",
        "--shards",
        "--split-at",
    ):
        assert option in text
    assert "exit code" in text


def test_arguments_are_checked(capsys):
    parser = cli.build_parser()
    assert parser.parse_args(["demo"]).duration == 60.0
    # argparse refuses a bad value with a usage error: exit code 2, the option named on stderr
    with pytest.raises(SystemExit, match=r"^2$"):
        parser.parse_args(["demo", "--duration", "0"])
    assert "--duration" in capsys.readouterr().err
    with pytest.raises(SystemExit, match=r"^2$"):
        parser.parse_args(["run", "--function", "everything"])
    assert "--function" in capsys.readouterr().err


def test_the_demo_runs_four_virtual_shards_unless_told_otherwise():
    parser = cli.build_parser()
    assert (parser.parse_args(["demo"]).shards, parser.parse_args(["demo"]).split_at) == (4, None)
    args = parser.parse_args(["demo", "--shards", "8", "--split-at", "2.5"])
    assert (args.shards, args.split_at) == (8, 2.5)


def test_a_split_needs_two_virtual_shards_or_more(capsys):
    # GIVEN a demo asked to split moto's own single shard
    # WHEN it starts
    code = cli.main(["demo", "--shards", "1", "--split-at", "5"])
    # THEN it refuses at once, exit code 2, naming both options
    assert code == 2
    error = capsys.readouterr().err
    assert "--split-at needs --shards 2 or more" in error and "--shards 1" in error


def test_without_the_local_extra_the_runtime_says_how_to_install_it():
    # GIVEN an interpreter where moto (part of the `local` extra) cannot be imported
    code = (
        "import runpy, sys\nsys.modules['moto'] = None\nrunpy.run_module('localrun', run_name='__main__')\n"
    )
    # WHEN the local runtime is started
    done = subprocess.run(
        [sys.executable, "-c", code, "demo", "--duration", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    # THEN it names the missing module and the extra to install, exits 2, and shows no traceback
    assert done.returncode == 2
    assert "cannot import moto" in done.stderr
    assert "dynamodb-stream-replicator[local]" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_local_runtime_runs_the_handlers_public_entry_points():
    components = parts.load()
    assert components.replicator is replicator.handler.create_handler
    assert components.metrics is metrics.handler.create_handler
    assert components.check is parts.cli_check
    assert components.doctor is parts.cli_doctor
