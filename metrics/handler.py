"""Lambda entry point of the usage-metrics consumer.

Each invocation: parse the batch once (``ddbstream``), drop what this tumbling window has
counted already, aggregate (pure), render the EMF documents (pure), write them to standard
output, and hand the window state back to Lambda. A malformed record is counted and skipped;
this consumer never reports a failed record, so it can never hold back the shard.

Rate metrics are published at every invocation, stamped with the processing time. ActiveUsers
are published once per window, on its final invocation (or when Lambda ends it early), stamped
with the window start. Without a tumbling window on the mapping every invocation is a window of
its own: ActiveUsers then count the distinct users of the batch and duplicates are not tracked.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from ddbstream import ParsedBatch, parse_event, source_table
from metrics.aggregate import TableAggregate, aggregate
from metrics.emit import (
    Series,
    Sink,
    StdoutSink,
    active_user_series,
    cloudwatch_timestamp,
    rate_series,
    render,
)
from metrics.errors import WindowStateError
from metrics.settings import Settings
from metrics.window import Window, WindowState, read_window

logger = logging.getLogger(__name__)

UNKNOWN_TABLE = "unknown"
"""TableName of records whose event carries no table or stream ARN (never the case in Lambda)."""
_LOGGED_SEQUENCE_NUMBERS = 5


class Consumer:
    """The handler's logic with its collaborators injected: settings, where EMF goes, the clock."""

    def __init__(self, settings: Settings, sink: Sink, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.sink = sink
        self.clock = clock

    def __call__(self, event: Mapping[str, Any]) -> dict[str, Any]:
        now = self.clock()
        window = read_window(event) if isinstance(event, Mapping) else None
        if window is not None and "Records" not in event:
            event = {**event, "Records": []}  # a final invoke may carry no records at all
        batch = parse_event(event)
        state = self._state(event) if window is not None else WindowState()
        fresh, duplicates = state.take_fresh(batch) if window is not None else (batch, 0)
        default_table = _default_table(event, batch)
        tables = aggregate(fresh.records, fresh.rejected, self.settings, now=now, default_table=default_table)
        if batch.records or batch.rejected:
            # Duplicates only: still publish the table's zeros, so a graph shows 0 rather than a gap.
            tables.setdefault(default_table, TableAggregate())
        state.add_users(tables)

        now_utc = dt.datetime.fromtimestamp(now, dt.UTC)
        lines = render(
            [s for table, agg in tables.items() for s in rate_series(table, agg, self.settings)],
            self.settings.namespace,
            now_utc,
        )
        closes = window is None or window.closes
        if closes:
            lines += render(self._active_users(state), self.settings.namespace, _stamp(window, now_utc))
        response: dict[str, Any] = {"batchItemFailures": []}
        if window is not None:
            # Encoded before anything is written: should it fail, the retry will not count twice.
            response["state"] = {} if closes else state.to_lambda()
        self.sink.write(lines)
        _log(batch, fresh, duplicates, len(lines), window)
        return response

    def _state(self, event: Mapping[str, Any]) -> WindowState:
        try:
            return WindowState.from_lambda(event.get("state"))
        except WindowStateError as exc:
            # Failing would block the shard for good: start the window afresh and say so.
            logger.error("metrics: %s; counting this window from here on", exc)
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


def _default_table(event: Mapping[str, Any], batch: ParsedBatch) -> str:
    """The source table of the batch (see ``ddbstream.source_table``)."""
    return source_table(event, batch) or UNKNOWN_TABLE


def _log(
    batch: ParsedBatch, fresh: ParsedBatch, duplicates: int, documents: int, window: Window | None
) -> None:
    """One line per invocation, counts and sequence numbers only: never an item's contents."""
    if fresh.rejected:
        numbers = [
            bad.sequence_number or f"#{bad.index}" for bad in fresh.rejected[:_LOGGED_SEQUENCE_NUMBERS]
        ]
        logger.warning(
            "metrics: %d malformed record(s) counted and skipped, first sequence numbers: %s",
            len(fresh.rejected),
            ", ".join(numbers),
        )
    logger.info(
        "metrics: %d record(s), %d counted, %d duplicate(s) skipped, %d EMF document(s)%s",
        len(batch.records) + len(batch.rejected),
        len(fresh.records),
        duplicates,
        documents,
        "" if window is None else f", window final={window.closes}",
    )


@functools.cache
def _consumer() -> Consumer:
    # Configuration is read once per Lambda execution environment, on the first invocation.
    return Consumer(Settings.from_env(os.environ), StdoutSink())


def create_handler(environ: Mapping[str, str]) -> Callable[[Mapping[str, Any], object], dict[str, Any]]:
    """A Lambda-style handler configured from ``environ`` rather than the process environment.

    The local runtime runs both consumers in one process, each with its own settings.
    """
    consumer = Consumer(Settings.from_env(environ), StdoutSink())
    return lambda event, _context: consumer(event)


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """The Lambda entry point (environment: see ``metrics.settings``)."""
    return _consumer()(event)
