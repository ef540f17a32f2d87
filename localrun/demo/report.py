"""What the demo prints: progress lines while it runs and the summary at the end (pure formatting)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from localrun.cloudwatch.observe import FunctionCounters


@dataclass(frozen=True, slots=True)
class Summary:
    writes: int
    replicated: float
    skipped: float
    failed: float
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    discarded: int
    check_exit_code: int
    check_output: str
    dashboards: Sequence[Path]
    index: Path | None


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


def summary_text(summary: Summary) -> str:
    verdict = {0: "consistent", 1: "DIFFERENCES FOUND", 2: "check failed"}.get(
        summary.check_exit_code, "unknown"
    )
    lines = [
        "",
        "=== consistency check " + "=" * 48,
        summary.check_output or "(no output)",
        "=== summary " + "=" * 58,
        f"writes to the source      {summary.writes:,}",
        f"records replicated        {summary.replicated:,.0f}",
        f"records skipped           {summary.skipped:,.0f}",
    ]
    if summary.failed:
        lines.append(f"records failed (retried)  {summary.failed:,.0f}")
    if summary.discarded:
        lines.append(f"records discarded         {summary.discarded:,} (see the failure queues)")
    lines += [
        f"replication lag           p50 {_ms(summary.lag_p50_ms)}, p99 {_ms(summary.lag_p99_ms)}",
        f"consistency check         {verdict} (exit code {summary.check_exit_code})",
    ]
    if summary.index is not None:
        lines.append(f"dashboards                {summary.index}")
        lines += [f"                          {path}" for path in summary.dashboards]
    return "\n".join(lines)


def keep_running_text(
    endpoint_url: str, *, source_region: str, replica_region: str, table: str, replica: str
) -> str:
    return f"""
The local system keeps running at {endpoint_url} (Ctrl-C stops it). Try, with any credentials:

  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  aws dynamodb put-item --endpoint-url {endpoint_url} --region {source_region} --table-name {table} \\
      --item '{{"user_id": {{"S": "user-cli"}}, "timestamp": {{"N": "1"}}, "plan": {{"S": "pro"}}}}'
  aws dynamodb get-item --endpoint-url {endpoint_url} --region {replica_region} --table-name {replica} \\
      --key '{{"user_id": {{"S": "user-cli"}}, "timestamp": {{"N": "1"}}}}'
"""
