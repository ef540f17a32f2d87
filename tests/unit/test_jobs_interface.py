"""The export job's command line and summary, which the CLI builds and reads without pyspark."""

from __future__ import annotations

import pytest

from jobs.export_interface import JobArgs, JobSummary, parse_args
from replicator.core.compare import Rules

ARGS = JobArgs(
    source="s3://exports/source/AWSDynamoDB/01800000000000-5a1e0001",
    replica="/tmp/replica/AWSDynamoDB/01800000060000-5a1e0002",
    output="s3://exports/results/run-1",
    key_names=("user_id", "timestamp"),
    now=1_800_000_000.5,
    excluded=frozenset({"secret", "token"}),
    ignored=frozenset({"last_seen"}),
    ttl_attribute="expires_at",
)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(ARGS, id="every-option"),
        pytest.param(JobArgs("a", "b", "c", ("pk",), 0.0), id="only-the-required"),
    ],
)
def test_the_command_line_means_the_arguments_it_was_made_from(args):
    # spark-submit on EMR Serverless gets args.argv(); the job parses it back
    assert parse_args(args.argv()) == args


def test_the_arguments_give_the_comparison_rules():
    assert ARGS.rules == Rules(
        ("user_id", "timestamp"), frozenset({"secret", "token"}), frozenset({"last_seen"}), "expires_at"
    )


def test_arguments_made_from_rules_give_those_rules_back():
    # the check, the tests and the benchmark tell the job their rules this way
    made = JobArgs.of(ARGS.source, ARGS.replica, ARGS.output, ARGS.rules, ARGS.now)
    assert made == ARGS
    assert made.rules == ARGS.rules


def test_the_summary_line_reads_back():
    summary = JobSummary(
        source_items=55,
        replica_items=53,
        matched=45,
        expired=3,
        differences={"missing": 3, "extra": 2, "different": 4, "unreplicable": 1},
        source_bytes=29_980,
        replica_bytes=32_022,
    )
    assert JobSummary.from_json(summary.to_json()) == summary
    assert summary.to_json().startswith('{"source_items":55,"replica_items":53,"matched":45,"expired":3,')


def test_help_explains_the_job(capsys):
    with pytest.raises(SystemExit, match="0"):
        parse_args(["--help"])
    out = capsys.readouterr().out
    assert "OUTPUT/differences/" in out and "<prefix>/AWSDynamoDB/<ExportId>/" in out and "--now EPOCH" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--key-names", "pk,,sk"], "argument --key-names: must be attribute names", id="empty-name"
        ),
        pytest.param(["--key-names", "pk", "--now", "soon"], "argument --now: invalid float value", id="now"),
    ],
)
def test_a_bad_argument_exits_2_naming_it(argv, message, capsys):
    with pytest.raises(SystemExit, match="2"):
        parse_args(["--source", "a", "--replica", "b", "--output", "c", "--now", "0", *argv])
    assert message in capsys.readouterr().err
