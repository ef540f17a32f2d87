"""What the demo prints: progress lines while it runs and the summary at the end (pure formatting)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from localrun.aws.credentials import EXPORT_FAKE_CREDENTIALS
from localrun.cloudwatch.observe import FunctionCounters
from telemetry.catalogue import SkipReason


@dataclass(frozen=True, slots=True)
class Figure:
    """A distinct-user figure the merge published (None: never published) and the workload's truth."""

    published: float | None
    truth: int


@dataclass(frozen=True, slots=True)
class ActiveUsers:
    """Table-wide distinct users: each minute of the run, and the rolling day and 30 days at its end."""

    per_minute: tuple[tuple[str, Figure], ...]
    """(UTC minute "HH:MM", its figure), oldest first."""
    daily: Figure
    monthly: Figure


@dataclass(frozen=True, slots=True)
class Summary:
    writes: int
    """Puts, updates and deletes the workload sent to the source table."""
    ttl_expiries: int
    """Items the TTL emulation deleted (each is a change of the source, with a stream record)."""
    delivered: int
    """Stream records handed to the replicator, counting those delivered again after a retry."""
    replicated: float
    skipped: float
    skipped_by_reason: Mapping[str, float]
    failed: float
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    discarded: int
    check_exit_code: int
    check_output: str
    dashboards: Sequence[Path]
    index: Path | None
    active_users: ActiveUsers | None = None


_REASONS: dict[str, str] = {
    SkipReason.SUPERSEDED: "superseded (a newer change of the same key in the same batch)",
    SkipReason.ALREADY_APPLIED: "already applied (delivered again)",
    SkipReason.STALE: "stale (the replica held a newer version)",
    SkipReason.DELETED_LATER: "deleted later (a newer delete was replicated)",
    SkipReason.TTL_POLICY: "TTL expiries kept by TTL_DELETES=skip",
}


def _users(figure: Figure) -> str:
    return "n/a" if figure.published is None else f"{figure.published:,.0f}"


def _active_user_rows(users: ActiveUsers) -> list[str]:
    minutes = ", ".join(f"{minute} {_users(f)} ({f.truth:,})" for minute, f in users.per_minute)
    return [
        _row(
            "active users",
            "",
            "table-wide, every shard's windows merged, per minute (in brackets: the distinct users "
            f"the workload wrote in that minute): {minutes or 'none published'}",
        ),
        _row(
            "daily active users",
            _users(users.daily),
            f"DAU, the last 24 h (clock hours); the workload wrote {users.daily.truth:,} distinct users",
        ),
        _row(
            "monthly active users",
            _users(users.monthly),
            f"MAU, the last 30 days (UTC days); the workload wrote {users.monthly.truth:,}",
        ),
    ]


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def progress_line(
    elapsed: float, writes: int | None, counters: Mapping[str, FunctionCounters], lag_p99_ms: float | None
) -> str:
    parts = [f"[{elapsed:6.1f}s]" + (f" writes {writes:,}" if writes is not None else "")]
    for name, c in sorted(counters.items()):
        errors = f", {c.errors} errors" if c.errors else ""
        parts.append(f"{name}: {c.records:,} records / {c.invocations:,} invokes{errors}")
    if lag_p99_ms is not None:
        parts.append(f"replication lag p99 {_ms(lag_p99_ms)}")
    return " | ".join(parts)


_WIDTH = 100
_INDENT = 32


def _row(name: str, value: str, meaning: str = "") -> str:
    """``name  value  meaning``, the meaning wrapped under itself so the numbers stay in a column."""
    head = f"{name:<22}{value:>8}  "
    wrapped = textwrap.wrap(meaning, _WIDTH - _INDENT) or [""]
    return "\n".join([head + wrapped[0], *(" " * _INDENT + more for more in wrapped[1:])]).rstrip()


def summary_text(summary: Summary) -> str:
    """The end-of-run summary; every number says what it counts and how the numbers add up."""
    verdict = {0: "consistent", 1: "DIFFERENCES FOUND", 2: "check failed"}.get(
        summary.check_exit_code, "unknown"
    )
    reasons = ", ".join(
        f"{count:,.0f} {_REASONS.get(reason, reason)}"
        for reason, count in sorted(summary.skipped_by_reason.items(), key=lambda kv: -kv[1])
        if count
    )
    changes = summary.writes + summary.ttl_expiries
    lines = [
        "",
        "=== consistency check " + "=" * 48,
        summary.check_output or "(no output)",
        "=== summary " + "=" * 58,
        _row(
            "changes to the source",
            f"{changes:,}",
            f"{summary.writes:,} workload writes "
            f"+ {summary.ttl_expiries:,} TTL expiries; each change is one stream record",
        ),
        _row(
            "records delivered",
            f"{summary.delivered:,}",
            "to the replicator, counting records "
            "delivered again after a retry (moto also records an update that changes nothing)",
        ),
        _row("  replicated", f"{summary.replicated:,.0f}", "written to the replica"),
        _row("  skipped", f"{summary.skipped:,.0f}", "needed no write" + (f": {reasons}" if reasons else "")),
    ]
    if summary.failed:
        lines.append(_row("  failed", f"{summary.failed:,.0f}", "not written in that invocation; retried"))
    if summary.discarded:
        lines.append(
            _row("records discarded", f"{summary.discarded:,}", "retries exhausted: see the failure queues")
        )
    lines += [
        _row(
            "replication lag",
            "",
            f"p50 {_ms(summary.lag_p50_ms)}, p99 {_ms(summary.lag_p99_ms)} "
            "from the source change to the replica's acknowledgement",
        ),
        _row("consistency check", "", f"{verdict} (exit code {summary.check_exit_code})"),
    ]
    if summary.active_users is not None:
        lines += _active_user_rows(summary.active_users)
    if summary.index is not None:
        lines.append(_row("dashboards", "", str(summary.index)))
        lines += [_row("", "", str(path)) for path in summary.dashboards]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Commands:
    """How to reach the kept-running system from a shell: the endpoint and the programs to run."""

    endpoint_url: str
    source_region: str
    replica_region: str
    table: str
    replica: str
    aws: str
    """The AWS CLI to run (the virtualenv's, where the project installed it)."""
    replicator_cli: str
    """The operator CLI (``ddb-replicator`` or ``python -m replicator``)."""
    namespace: str
    since: str
    """ISO 8601 UTC: where the metric query starts (the demo's start)."""
    until: str


def keep_running_text(c: Commands) -> str:
    """Copy-paste commands for a fresh terminal: AWS CLI writes and reads, check, repair, a metric."""
    tables = f"--source {c.source_region}/{c.table} --replica {c.replica_region}/{c.replica}"
    tables += f" --endpoint-url {c.endpoint_url}"
    return f"""
The local system keeps running at {c.endpoint_url} (Ctrl-C stops it). In another terminal, at this
directory (any credentials work against the local endpoint):

  {EXPORT_FAKE_CREDENTIALS} AWS_DEFAULT_REGION={c.source_region}

Write to the source and read the replica a moment later:
  {c.aws} dynamodb put-item --endpoint-url {c.endpoint_url} --region {c.source_region} \\
      --table-name {c.table} \\
      --item '{{"user_id": {{"S": "user-cli"}}, "timestamp": {{"N": "1"}}, "plan": {{"S": "pro"}}}}'
  {c.aws} dynamodb get-item --endpoint-url {c.endpoint_url} --region {c.replica_region} \\
      --table-name {c.replica} --consistent-read \\
      --key '{{"user_id": {{"S": "user-cli"}}, "timestamp": {{"N": "1"}}}}'

Check the replica against the source, and repair what differs:
  {c.replicator_cli} check {tables}
  {c.replicator_cli} repair {tables}

Read a metric (records replicated per minute, the sum over the run):
  {c.aws} cloudwatch get-metric-statistics --endpoint-url {c.endpoint_url} --region {c.source_region} \\
      --namespace {c.namespace} --metric-name RecordsReplicated --dimensions Name=TableName,Value={c.table} \\
      --statistics Sum --period 60 --start-time {c.since} --end-time {c.until}
"""
