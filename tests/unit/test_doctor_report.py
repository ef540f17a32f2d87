"""What the doctor prints and writes: every finding with its reason, the fix of what did not pass."""

from __future__ import annotations

from replicator.cli.doctor import report
from replicator.cli.doctor.findings import exit_code, failed, passed, skipped, warned

FINDINGS = [
    passed("stream", "the stream is on"),
    failed("pitr", "point-in-time recovery is off", "aws dynamodb update-continuous-backups ..."),
    warned("ttl-policy", "could not read the TTL", "grant dynamodb:DescribeTimeToLive"),
    skipped("iam", "not simulated"),
]


def test_each_finding_is_one_line_with_its_status_and_the_fix_follows_what_did_not_pass():
    # WHEN the findings are printed
    lines = report.lines("Doctor: a -> b", FINDINGS, exit_code(FINDINGS), strict=False)
    text = "\n".join(lines)
    # THEN each check shows its status and reason, and only the failure and the warning show a fix
    assert lines[0] == "Doctor: a -> b"
    assert any(line.startswith("  PASS  stream") and line.endswith("the stream is on") for line in lines)
    assert any(line.startswith("  FAIL  pitr") for line in lines)
    assert text.count("fix: ") == 2
    # AND the last line tallies them and says the setup has a problem
    assert lines[-1] == (
        "Result: 1 pass, 1 warn, 1 fail, 1 skip: the setup has a problem: fix what FAIL says (exit 1)"
    )


def test_warnings_alone_exit_zero_but_say_they_are_not_proven_and_strict_fails_them():
    findings = [passed("stream", "ok"), warned("pitr", "could not read", "grant")]
    assert report.summary(findings, exit_code(findings), strict=False).endswith(
        "no failure found; the warnings are not proven fine (--strict makes them fail)"
    )
    assert report.summary(findings, exit_code(findings, strict=True), strict=True).endswith(
        "warnings count as failures with --strict (exit 1)"
    )


def test_the_json_document_holds_every_finding_and_the_exit_code():
    document = report.document("us-east-1/Users", "eu-west-1/Users", FINDINGS, 1)
    assert document["exitCode"] == 1
    assert document["counts"] == {"pass": 1, "fail": 1, "warn": 1, "skip": 1}
    assert document["findings"][1] == {
        "check": "pitr",
        "status": "fail",
        "reason": "point-in-time recovery is off",
        "fix": "aws dynamodb update-continuous-backups ...",
    }
