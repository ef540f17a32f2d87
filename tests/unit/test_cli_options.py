"""The operator CLI's options: validated once, typed, and explained in full sentences."""

from __future__ import annotations

import pytest

from replicator.cli.main import main
from replicator.cli.options import COMMANDS, SUMMARIES, parse
from replicator.core.policy import TtlPolicy

TABLES = ["--source", "us-east-1/Users", "--replica", "eu-west-1/Users"]


def test_zero_read_units_means_no_limit_and_defaults_are_typed():
    opts = parse(["check", *TABLES, "--max-read-units", "0"])
    assert opts.max_read_units is None
    assert (opts.page_size, opts.segments, opts.sample, opts.json_path) == (1000, 4, None, None)
    assert opts.source.endpoint_url is None and str(opts.replica.ref) == "eu-west-1/Users"


def test_a_side_endpoint_overrides_the_common_one_and_remembers_its_option():
    opts = parse(["check", *TABLES, "--endpoint-url", "http://a:1", "--replica-endpoint-url", "https://b:2"])
    assert (opts.source.endpoint_url, opts.source.endpoint_option) == ("http://a:1", "--endpoint-url")
    assert (opts.replica.endpoint_url, opts.replica.endpoint_option) == (
        "https://b:2",
        "--replica-endpoint-url",
    )


def test_redrive_options_are_typed():
    opts = parse(["redrive", *TABLES, "--queue-url", "failures", "--ttl-deletes", "skip"])
    assert (opts.queue, opts.ttl_deletes, opts.writes) == ("failures", TtlPolicy.SKIP, True)
    assert not parse(["check", *TABLES]).writes and parse(["check", *TABLES, "--repair"]).writes


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["redrive", *TABLES, "--queue-url", "q", "--sample", "0.5"], "--sample", id="sample"),
        pytest.param(
            ["check", *TABLES, "--exclude-attribute", "a", "--ignore-attribute", "a"],
            "both to --exclude-attribute and to --ignore-attribute",
            id="excluded-and-ignored",
        ),
        pytest.param(["check", *TABLES, "--max-read-units", "nan"], "finite", id="nan"),
    ],
)
def test_contradictions_are_refused_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit, match=r"^2$"):
        parse(argv)
    assert message in capsys.readouterr().err


def test_the_top_level_help_gives_each_command_in_one_whole_sentence(capsys):
    with pytest.raises(SystemExit, match=r"^0$"):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for command in COMMANDS:
        summary = SUMMARIES[command]
        assert summary.endswith(".") and " ".join(summary.split()) in text


def test_doctor_options_are_typed_and_it_writes_nothing():
    opts = parse(["doctor", *TABLES, "--ttl-deletes", "expire", "--function", "Users-replicator", "--deep"])
    assert (opts.ttl_deletes, opts.function, opts.deep, opts.strict) == (
        TtlPolicy.EXPIRE,
        "Users-replicator",
        True,
        False,
    )
    assert not opts.writes
    # AND the scanning options it does not take keep their defaults
    assert (opts.segments, opts.page_size, opts.retry_seconds) == (4, 1000, 300.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["doctor", *TABLES, "--segments", "2"], "unrecognized arguments: --segments", id="scans-nothing"
        ),
        pytest.param(
            ["doctor", *TABLES, "--function", " "], "must be a Lambda function name", id="blank-function"
        ),
        pytest.param(["doctor", *TABLES, "--ttl-deletes", "never"], "must be one of", id="bad-policy"),
    ],
)
def test_doctor_refuses_bad_options_before_any_call(argv, message, capsys):
    with pytest.raises(SystemExit, match=r"^2$"):
        parse(argv)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--allow-third-reader", "--i-know-about-the-two-reader-limit"])
def test_redrive_takes_the_third_reader_flag_under_either_name(flag):
    assert parse(["redrive", *TABLES, "--queue-url", "q", flag]).allow_third_reader
    assert not parse(["redrive", *TABLES, "--queue-url", "q"]).allow_third_reader
