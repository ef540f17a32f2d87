"""Lambda entry point of the usage-metrics consumer: ``metrics.handler.handler(event, context)``.

Configuration is read once per container from the environment (see ``metrics.settings``) into a
frozen value; ``create_handler`` builds the same callable from an explicit environment, for the
local runtime and the tests (the replicator's entry point follows the same pattern).

Each invocation: parse the batch once (``ddbstream``), drop what this tumbling window has counted
already, aggregate (pure), render the EMF documents and the log lines (pure), write them all to
standard output at once, and hand the window state back to Lambda. A malformed record is counted
and skipped; this consumer never reports a failed record, so it can never hold back the shard.

Rate metrics are published at every invocation, stamped with the processing time. When a window
closes (its final invocation, or Lambda ending it early) and a usage table is configured
(``USAGE_TABLE_NAME``, as deployed), the window's summary (hashed users and change counts per
segment) is stored there before anything is written, and the merge function (``metrics.merge``)
publishes table-wide ActiveUsers from all shards' summaries. Without a usage table the window's
own ActiveUsers are published at its close, stamped with the window start. Without a tumbling
window on the mapping every invocation is a window of its own: ActiveUsers then count the
distinct users of the batch and duplicates are not tracked.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any, Protocol

from ddbstream import ParsedBatch, parse_event, source_table
from metrics.aggregate import TableAggregate, aggregate
from metrics.emit import (
    Series,
    active_user_series,
    cloudwatch_timestamp,
    rate_series,
    render,
)
from metrics.errors import WindowStateError
from metrics.settings import Settings, from_environ
from metrics.store import UsageStore, usage_client
from metrics.usage_items import WindowSummary
from metrics.window import Window, WindowState, read_window
from telemetry.logs import log_line

Handler = Callable[[Mapping[str, Any], Any], dict[str, Any]]

UNKNOWN_TABLE = "unknown"
"""TableName of records whose event carries no table or stream ARN (never the case in Lambda)."""
_LOGGED_SEQUENCE_NUMBERS = 5
UNKNOWN_SHARD = "unknown"
"""shardId of a window whose event names none (Lambda always does)."""


class SummarySink(Protocol):
    """Where closing windows' summaries go (:class:`metrics.store.UsageStore` when deployed)."""

    def put_summary(self, summary: WindowSummary) -> None: ...


@dataclass
class Consumer:
    """One configured consumer: settings, where output goes, and the clock.

    ``out`` None means standard output as it is when the lines are written (the local runtime and
    the benchmark redirect it per invocation).
    """

    settings: Settings
    out: IO[str] | None = None
    clock: Callable[[], float] = time.time
    store: SummarySink | None = None
    """None: no usage table; each window publishes its own ActiveUsers instead."""

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        now = self.clock()
        request_id = getattr(context, "aws_request_id", None)
        logs: list[str] = []
        window = read_window(event) if isinstance(event, Mapping) else None
        if window is not None and "Records" not in event:
            event = {**event, "Records": []}  # a final invoke may carry no records at all
        batch = parse_event(event)
        now_utc = dt.datetime.fromtimestamp(now, dt.UTC)
        state = self._state(event, logs, now_utc, request_id) if window is not None else WindowState()
        fresh, duplicates = state.take_fresh(batch) if window is not None else (batch, 0)
        default_table = _default_table(event, batch)
        tables = aggregate(fresh.records, fresh.rejected, self.settings, now=now, default_table=default_table)
        if batch.records or batch.rejected:
            # Duplicates only: still publish the table's zeros, so a graph shows 0 rather than a gap.
            tables.setdefault(default_table, TableAggregate())
        state.add_users(tables)

        lines = render(
            [s for table, agg in tables.items() for s in rate_series(table, agg, self.settings)],
            self.settings.namespace,
            now_utc,
        )
        closes = window is None or window.closes
        summaries: list[WindowSummary] = []
        if window is not None and window.closes and self.store is not None:
            summaries = state.summaries(window_start=window.start or now_utc, shard_id=_shard(event))
        elif closes:
            lines += render(self._active_users(state), self.settings.namespace, _stamp(window, now_utc))
        response: dict[str, Any] = {"batchItemFailures": []}
        if window is not None:
            # Encoded before anything is written: should it fail, the retry will not count twice.
            response["state"] = {} if closes else state.to_lambda()
        logs += batch_log_lines(
            batch, fresh, duplicates, len(lines), window, at=now_utc, request_id=request_id
        )
        # Before any output: should a write fail, Lambda retries the final invoke with the window's
        # state, and the retry writes the same item (docs/metrics.md, "Window summaries").
        self._store(summaries)
        logs += [summary_log_line(summary, at=now_utc, request_id=request_id) for summary in summaries]
        out = self.out or sys.stdout
        out.write("".join(f"{line}\n" for line in [*logs, *lines]))
        out.flush()
        return response

    def _store(self, summaries: list[WindowSummary]) -> None:
        for summary in summaries:
            if self.store is not None:
                self.store.put_summary(summary)

    def _state(
        self, event: Mapping[str, Any], logs: list[str], at: dt.datetime, request_id: str | None
    ) -> WindowState:
        try:
            return WindowState.from_lambda(event.get("state"))
        except WindowStateError as exc:
            # Failing would block the shard for good: start the window afresh and say so.
            logs.append(
                log_line(
                    "ERROR",
                    "window state unreadable; counting this window afresh",
                    at=at,
                    request_id=request_id,
                    reason=str(exc),
                )
            )
            return WindowState()

    def _active_users(self, state: WindowState) -> list[Series]:
        return [
            s
            for table, segments in state.users.items()
            for s in active_user_series(table, segments, self.settings)
        ]


def _stamp(window: Window | None, now: dt.datetime) -> dt.datetime:
    if window is None or window.start is None:
        return now
    return cloudwatch_timestamp(window.start, now)


def _shard(event: Mapping[str, Any]) -> str:
    shard = event.get("shardId")
    return shard if isinstance(shard, str) and shard else UNKNOWN_SHARD


def summary_log_line(summary: WindowSummary, *, at: dt.datetime, request_id: str | None) -> str:
    """What a stored summary holds, in counts only (never a user id or digest)."""
    return log_line(
        "INFO",
        "window summary stored",
        at=at,
        request_id=request_id,
        table=summary.table,
        minute=summary.minute.text(),
        shardId=summary.shard_id,
        segments=len(summary.users),
        changes=sum(summary.changes.values()),
    )


def _default_table(event: Mapping[str, Any], batch: ParsedBatch) -> str:
    """The source table of the batch (see ``ddbstream.source_table``)."""
    return source_table(event, batch) or UNKNOWN_TABLE


def batch_log_lines(
    batch: ParsedBatch,
    fresh: ParsedBatch,
    duplicates: int,
    documents: int,
    window: Window | None,
    *,
    at: dt.datetime,
    request_id: str | None,
) -> list[str]:
    """An invocation's log lines, counts and sequence numbers only: never an item's contents."""
    lines = []
    if fresh.rejected:
        lines.append(
            log_line(
                # WARN, not WARNING: Lambda stores a level it does not know as INFO (telemetry.logs).
                "WARN",
                "malformed records counted and skipped",
                at=at,
                request_id=request_id,
                count=len(fresh.rejected),
                sequenceNumbers=[
                    bad.sequence_number or f"#{bad.index}"
                    for bad in fresh.rejected[:_LOGGED_SEQUENCE_NUMBERS]
                ],
            )
        )
    lines.append(
        log_line(
            "INFO",
            "batch counted",
            at=at,
            request_id=request_id,
            records=len(batch.records) + len(batch.rejected),
            counted=len(fresh.records),
            duplicates=duplicates,
            documents=documents,
            windowFinal=None if window is None else window.closes,
        )
    )
    return lines


def build_consumer(settings: Settings, *, out: IO[str] | None = None) -> Consumer:
    """Wire a consumer from settings: a usage table client when one is configured."""
    table = settings.usage_table
    store = UsageStore(usage_client(table), table.name) if table is not None else None
    return Consumer(settings, out, store=store)


def create_handler(environ: Mapping[str, str]) -> Handler:
    """A Lambda-style handler configured from ``environ``; a bad variable raises SettingsError.

    The local runtime runs both consumers in one process, each with its own settings.
    """
    return build_consumer(from_environ(environ)).handle


_handler: Handler | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (environment: see ``metrics.settings``)."""
    global _handler  # noqa: PLW0603 - one consumer per container, built on first use
    if _handler is None:
        _handler = create_handler(os.environ)
    return _handler(event, context)
