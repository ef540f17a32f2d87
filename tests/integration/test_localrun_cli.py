"""``python -m localrun``: arguments, help, and a clear error when a part of the system is missing.

Not a unit test: importing the CLI loads the embedded moto server
(localrun.demo.run -> localrun.aws.server).
"""

from __future__ import annotations

import pytest

from localrun import cli
from localrun.invoke import handlers as parts


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


def test_a_missing_part_of_the_system_is_named_and_exits_2(monkeypatch, capsys):
    def missing():
        raise parts.MissingComponent(
            "the demo needs parts that are missing:\n  - replicator.handler cannot be imported"
        )

    monkeypatch.setattr(parts, "load", missing)
    assert cli.main(["demo", "--duration", "1"]) == 2
    assert "replicator.handler" in capsys.readouterr().err


def test_a_handler_module_without_the_factory_is_reported():
    with pytest.raises(parts.MissingComponent, match="create_handler"):
        parts._factory("localrun.aws.server")
    with pytest.raises(parts.MissingComponent, match="cannot be imported"):
        parts._factory("no_such_package.handler")
