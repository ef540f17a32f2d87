"""The demo's summary explains its numbers; its banner names every program it runs."""

from __future__ import annotations

from pathlib import Path

from localrun.demo.report import ActiveUsers, Commands, Figure, Summary, keep_running_text, summary_text


def _summary(**overrides: object) -> Summary:
    values: dict[str, object] = {
        "writes": 400,
        "ttl_expiries": 12,
        "delivered": 437,
        "replicated": 412,
        "skipped": 25,
        "skipped_by_reason": {"Superseded": 20, "AlreadyApplied": 5, "Stale": 0},
        "failed": 0,
        "lag_p50_ms": 700.0,
        "lag_p99_ms": 1300.0,
        "discarded": 0,
        "check_exit_code": 0,
        "check_output": "CONSISTENT: no differences.",
        "dashboards": [Path("out/dashboard-replication.png")],
        "index": Path("out/index.html"),
    }
    values.update(overrides)
    return Summary(**values)  # type: ignore[arg-type]


def test_the_summary_says_what_each_number_counts_and_how_they_add_up():
    text = " ".join(summary_text(_summary()).split())  # as read, across wrapped lines
    # The changes are the writes plus TTL expiries; the delivered records split into the rest.
    assert "412 400 workload writes + 12 TTL expiries" in text
    assert "437 to the replicator, counting records delivered again after a retry" in text
    assert "412 written to the replica" in text
    assert "25 needed no write: 20 superseded (a newer change of the same key in the same batch)" in text
    assert "5 already applied (delivered again)" in text
    assert "0 stale" not in text  # reasons that did not happen are not listed
    assert "consistent (exit code 0)" in text


def test_the_summary_puts_table_wide_users_next_to_the_workloads_truth():
    users = ActiveUsers(
        per_minute=(("10:07", Figure(48, 48)), ("10:08", Figure(50, 50))),
        daily=Figure(50, 50),
        monthly=Figure(None, 50),
    )
    text = " ".join(summary_text(_summary(active_users=users)).split())
    assert "per minute (in brackets: the distinct users the workload wrote in that minute)" in text
    assert "10:07 48 (48), 10:08 50 (50)" in text
    assert "daily active users 50 DAU, the last 24 h (clock hours); the workload wrote 50 distinct" in text
    assert "monthly active users n/a MAU" in text


def test_summary_lines_stay_readable_in_a_terminal():
    text = summary_text(_summary(failed=3, discarded=2))
    assert all(len(line) <= 100 for line in text.splitlines() if "CONSISTENT" not in line)
    assert "failed" in text and "retries exhausted: see the failure queues" in text


def test_the_banner_names_the_programs_it_was_given():
    text = keep_running_text(
        Commands(
            endpoint_url="http://127.0.0.1:4566",
            source_region="us-east-1",
            replica_region="eu-west-1",
            table="Users",
            replica="Users",
            aws=".venv/bin/aws",
            replicator_cli=".venv/bin/ddb-replicator",
            namespace="DynamoDBReplication",
            since="2026-12-01T00:00:00Z",
            until="2026-12-02T00:00:00Z",
        )
    )
    assert ".venv/bin/aws dynamodb put-item --endpoint-url http://127.0.0.1:4566" in text
    assert (
        ".venv/bin/ddb-replicator check --source us-east-1/Users --replica eu-west-1/Users "
        "--endpoint-url http://127.0.0.1:4566" in text
    )
    assert ".venv/bin/ddb-replicator repair" in text
    assert "get-metric-statistics" in text and "--start-time 2026-12-01T00:00:00Z" in text
