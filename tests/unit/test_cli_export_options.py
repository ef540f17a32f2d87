"""``check --from-exports``'s options and ``repair --from-report``'s input: refused before any call
when they contradict, typed when they don't."""

from __future__ import annotations

import json
import time

import pytest

from replicator.cli.errors import UsageError
from replicator.cli.exports.options import Engine, RefKind, S3Uri
from replicator.cli.options import parse
from replicator.cli.report_input import load_differences
from replicator.core.compare import Kind

TABLES = ["--source", "us-east-1/Users", "--replica", "eu-west-1/Users"]
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/export/01700000000000-abcdef12"
KEYS = ("user_id", "timestamp")


def test_two_named_exports_and_the_local_engine_are_typed(tmp_path):
    opts = parse(
        ["check", *TABLES, "--from-exports", "--source-export", ARN, "--replica-export", str(tmp_path)]
    )
    exports = opts.exports
    assert exports is not None and exports.engine is Engine.LOCAL and exports.emr is None
    assert exports.source_export is not None and exports.source_export.kind is RefKind.ARN
    assert exports.replica_export is not None and exports.replica_export.kind is RefKind.PATH
    assert not exports.requests_exports and parse(["check", *TABLES]).exports is None


def test_requested_exports_take_a_time_and_the_margin():
    opts = parse(
        ["check", *TABLES, "--from-exports", "--export-to", "s3://exports-bucket/checks/", "--export-time",
         "2026-11-30T10:00:00Z", "--export-margin-seconds", "120"]
    )  # fmt: skip
    exports = opts.exports
    assert exports is not None and exports.export_to == S3Uri("exports-bucket", "checks")
    assert (exports.export_time, exports.margin_seconds) == (1_796_032_800.0, 120.0)


def test_the_emr_engine_reads_its_stack_outputs():
    opts = parse(
        ["check", *TABLES, "--from-exports", "--export-to", "s3://exports-bucket/exports/p",
         "--engine", "emr-serverless", "--emr-application-id", "00abc",
         "--emr-job-role-arn", "arn:aws:iam::123456789012:role/job"]
    )  # fmt: skip
    assert opts.exports is not None and opts.exports.emr is not None
    assert (opts.exports.emr.application_id, opts.exports.emr.output) == ("00abc", None)


FUTURE = str(time.time() + 3600)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--engine", "emr-serverless"], "needs --from-exports", id="engine-alone"),
        pytest.param(["--source-export", ARN], "--source-export needs --from-exports", id="export-alone"),
        pytest.param(["--from-exports"], "either both --source-export and --replica-export", id="nothing"),
        pytest.param(["--from-exports", "--source-export", ARN], "either both", id="one-side"),
        pytest.param(
            [
                "--from-exports",
                "--source-export",
                ARN,
                "--replica-export",
                ARN,
                "--export-to",
                "s3://exports-bucket/p",
            ],
            "not with --source-export",
            id="named-and-requested",
        ),
        pytest.param(
            ["--from-exports", "--export-to", "s3://exports-bucket/p", "--sample", "0.1"],
            "--sample cannot",
            id="sample",
        ),
        pytest.param(
            ["--from-exports", "--export-to", "s3://exports-bucket/p", "--export-time", FUTURE],
            "future",
            id="future",
        ),
        pytest.param(
            [
                "--from-exports",
                "--export-to",
                "s3://exports-bucket/p",
                "--export-time",
                "2020-01-01T00:00:00Z",
            ],
            "35-day",
            id="outside-pitr",
        ),
        pytest.param(["--from-exports", "--source-export", "arn:aws:dynamodb:x"], "export ARN", id="bad-arn"),
        pytest.param(["--from-exports", "--export-to", "s3://"], "s3://BUCKET", id="bad-uri"),
        pytest.param(["--from-exports", "--source-export", "/no/such/folder"], "neither", id="no-folder"),
        pytest.param(
            ["--from-exports", "--export-to", "s3://exports-bucket/exports/p", "--engine", "emr-serverless"],
            "--emr-application-id and --emr-job-role-arn",
            id="emr-without-application",
        ),
        pytest.param(
            [
                "--from-exports",
                "--export-to",
                "s3://exports-bucket/other",
                "--engine",
                "emr-serverless",
                "--emr-application-id",
                "a",
                "--emr-job-role-arn",
                "r",
            ],
            "the only prefix the export-check stack's job role reads",
            id="emr-exports-outside-the-readable-prefix",
        ),
        pytest.param(
            ["--from-exports", "--export-to", "s3://exports-bucket/p", "--emr-application-id", "a"],
            "is for --engine emr-serverless",
            id="emr-option-on-local",
        ),
    ],
)
def test_contradictions_are_refused_before_any_call(extra, message, capsys):
    with pytest.raises(SystemExit, match=r"^2$"):
        parse(["check", *TABLES, *extra])
    assert message in capsys.readouterr().err


def test_the_emr_engine_refuses_a_local_export(tmp_path, capsys):
    with pytest.raises(SystemExit, match=r"^2$"):
        parse(
            ["check", *TABLES, "--from-exports", "--source-export", str(tmp_path), "--replica-export",
             str(tmp_path), "--engine", "emr-serverless", "--emr-application-id", "a",
             "--emr-job-role-arn", "r", "--emr-output", "s3://exports-bucket/o"]
        )  # fmt: skip
    assert "reads exports from S3" in capsys.readouterr().err


def _report(tmp_path, differences):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"consistent": False, "differences": differences}))
    return path


def test_a_reports_differences_come_back_in_the_client_form(tmp_path):
    path = _report(
        tmp_path,
        [
            {"kind": "missing", "key": {"user_id": {"S": "u1"}, "timestamp": {"N": "1"}}, "keyHash": "x"},
            {"kind": "different", "key": {"user_id": {"S": "u2"}, "timestamp": {"N": "2"}}},
        ],
    )
    found = load_differences(path, KEYS)
    assert [(d.kind, d.keys["user_id"]) for d in found] == [
        (Kind.MISSING, {"S": "u1"}),
        (Kind.DIFFERENT, {"S": "u2"}),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("not json", "is not JSON", id="not-json"),
        pytest.param(json.dumps({"messages": []}), "no list of differences", id="not-a-check-report"),
        pytest.param(
            json.dumps({"differences": [{"kind": "odd", "key": {"user_id": {"S": "secret-user"}}}]}),
            "difference 1 has no valid kind and key",
            id="bad-kind",
        ),
        pytest.param(
            json.dumps({"differences": [{"kind": "missing", "key": {"pk": {"S": "secret-user"}}}]}),
            "not the tables' key",
            id="other-table",
        ),
    ],
)
def test_a_report_that_is_not_these_tables_check_is_refused_whole(tmp_path, content, message):
    path = tmp_path / "report.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=message) as caught:
        load_differences(path, KEYS)
    assert "secret-user" not in str(caught.value)
