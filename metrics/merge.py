"""The merge function: ``metrics.merge.handler(event, context)``, run every minute by a schedule.

Each run takes the minutes that have window summaries not yet merged (the *pending* markers the
consumer writes with each summary) up to the last minute that closed ``MERGE_GRACE_SECONDS`` ago,
and for each: unions its summaries into the minute's sketch, the minute into its hour, the hour
into its day (:mod:`metrics.rollup`; every write a conditional union, see :mod:`metrics.store`).
Then it publishes, as EMF on standard output:

* ``ActiveUsers`` of every minute it merged (table-wide: every shard's windows of the minute, a
  split's parent and children included), and 0 for the minutes that closed without activity;
* at the last closed minute: ``HourlyActiveUsers``, ``DailyActiveUsers``, ``MonthlyActiveUsers``
  (:data:`metrics.periods.ROLLING`) and ``Stickiness``, in total and per segment.

Everything it does is a union, so a run repeated, two runs at once, or a summary merged twice
changes nothing. A summary that arrives after its minute was published marks the minute pending
again: the next run re-merges it, republishes that minute's (larger) ActiveUsers with the same
timestamp (the dashboard reads Maximum) and the hour, day and rolling figures include it.

The event is EventBridge's scheduled event, whose fields are ignored, or ``{"through": "<minute>"}``
(``YYYY-MM-DDTHH:MM``, UTC) to merge and publish up to that minute now (the local demo uses it to
publish the run's last minute without waiting for the grace).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from metrics.emit import Series, cloudwatch_timestamp, figure_series, render
from metrics.errors import MergeRequestError
from metrics.periods import DAILY, DAY, HOUR, HOURLY, MINUTE, MONTHLY, ROLLING, Rolling, Slot, due_minute
from metrics.rollup import Segments, add_counts, estimates, stickiness, union_segments
from metrics.settings import MergeSettings, merge_from_environ
from metrics.store import UsageStore, usage_client
from metrics.usage_items import decode_changes, decode_users
from telemetry import catalogue as c
from telemetry.logs import log_line

Handler = Callable[[Mapping[str, Any], Any], dict[str, Any]]

MAX_MINUTES_PER_RUN = 120
"""Pending minutes merged per run: a merge that fell behind catches up two hours a minute."""
MAX_QUIET_MINUTES = 10
"""Minutes without activity published as 0 per run (more would flood after a long pause)."""

ROLLING_SPECS: dict[Rolling, c.MetricSpec] = {
    HOURLY: c.HOURLY_ACTIVE_USERS,
    DAILY: c.DAILY_ACTIVE_USERS,
    MONTHLY: c.MONTHLY_ACTIVE_USERS,
}


@dataclass(slots=True)
class MergeResult:
    """What one run did (the handler's response, and what tests assert)."""

    through: Slot
    merged: dict[Slot, Segments] = field(default_factory=dict)
    summaries: int = 0
    complete: bool = True
    """Every pending minute up to ``through`` was merged (else the next run continues)."""
    rolling: dict[Rolling, dict[str | None, int]] = field(default_factory=dict)
    """Each rolling figure at ``through``: the total under None, then each segment."""
    quiet: list[Slot] = field(default_factory=list)


@dataclass
class Merge:
    settings: MergeSettings
    store: UsageStore
    out: IO[str] | None = None
    clock: Callable[[], float] = time.time

    @property
    def table(self) -> str:
        return self.settings.source_table

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        now = self.clock()
        result = self.run(now, through=_requested(event, now))
        at = dt.datetime.fromtimestamp(now, dt.UTC)
        namespace = self.settings.settings.namespace
        lines = [
            line
            for stamp, series in self.series(result)
            for line in render(series, namespace, cloudwatch_timestamp(stamp, at))
        ]
        log = log_line(
            "INFO",
            "usage merged",
            at=at,
            request_id=getattr(context, "aws_request_id", None),
            table=self.table,
            through=result.through.text(),
            minutes=len(result.merged),
            summaries=result.summaries,
            complete=result.complete,
            documents=len(lines),
        )
        out = self.out or sys.stdout
        out.write("".join(f"{line}\n" for line in [log, *lines]))
        out.flush()
        return {"through": result.through.text(), "minutes": len(result.merged), "complete": result.complete}

    def run(self, now: float, *, through: Slot | None = None) -> MergeResult:
        """Merge every pending minute up to ``through`` (default: the last minute past the grace)."""
        due = through or due_minute(now, self.settings.grace_seconds)
        result = MergeResult(due)
        published = self.store.progress(self.table)
        pending = self.store.pending(self.table, due, MAX_MINUTES_PER_RUN)
        result.complete = len(pending) < MAX_MINUTES_PER_RUN
        self._merge(pending, result)
        if not result.complete:
            return result  # the rolling figures wait until the backlog up to ``due`` is merged
        result.quiet = quiet_minutes(due, published, result.merged)
        result.rolling = self._rolling(due)
        if published is None or due.index > published.index:
            self.store.save_progress(self.table, due)
        return result

    def _merge(self, pending: list[tuple[Slot, str]], result: MergeResult) -> None:
        """Each pending minute into itself, its hour and its day; then its marker is cleared."""
        hours: dict[Slot, list[Segments]] = {}
        for minute, _ in pending:
            items = self.store.minute_summaries(self.table, minute)
            result.summaries += len(items)
            users = union_segments(decode_users(item) for item in items)
            changes = add_counts(decode_changes(item) for item in items)
            merged = self.store.fold(self.table, minute, users, changes=changes)
            result.merged[minute] = merged
            hours.setdefault(minute.within(HOUR), []).append(merged)
        days: dict[Slot, list[Segments]] = {}
        for hour, maps in hours.items():
            days.setdefault(hour.within(DAY), []).append(
                self.store.fold(self.table, hour, union_segments(maps))
            )
        for day, maps in days.items():
            self.store.fold(self.table, day, union_segments(maps))
        for minute, token in pending:  # only once the hour and the day hold it
            self.store.clear_pending(self.table, minute, token)

    def _rolling(self, minute: Slot) -> dict[Rolling, dict[str | None, int]]:
        slots = {rolling: rolling.slots(minute) for rolling in ROLLING}
        stored = self.store.read_merged(self.table, [slot for each in slots.values() for slot in each])
        names = self.settings.settings.segments
        return {
            rolling: estimates(union_segments(stored[slot] for slot in each if slot in stored), names)
            for rolling, each in slots.items()
        }

    def series(self, result: MergeResult) -> list[tuple[dt.datetime, list[Series]]]:
        """What a run publishes, by timestamp: each minute's ActiveUsers at the minute's start, the
        rolling figures and stickiness at the start of the minute they run to."""
        names = self.settings.settings.segments
        minutes: dict[Slot, Segments] = {**{minute: {} for minute in result.quiet}, **result.merged}
        groups = [
            (minute.start, figure_series(c.ACTIVE_USERS, self.table, estimates(minutes[minute], names)))
            for minute in sorted(minutes, key=lambda slot: slot.index)
        ]
        if result.rolling:
            rolling = [
                one
                for each, counts in result.rolling.items()
                for one in figure_series(ROLLING_SPECS[each], self.table, counts)
            ]
            ratio = stickiness(result.rolling[DAILY], result.rolling[MONTHLY])
            groups.append((result.through.start, [*rolling, *figure_series(c.STICKINESS, self.table, ratio)]))
        return groups


def build_merge(settings: MergeSettings, *, out: IO[str] | None = None) -> Merge:
    """Wire the merge from settings: its usage table client."""
    return Merge(settings, UsageStore(usage_client(settings.usage_table), settings.usage_table.name), out)


def create_handler(environ: Mapping[str, str]) -> Handler:
    """A Lambda-style handler configured from ``environ``; a bad variable raises SettingsError."""
    return build_merge(merge_from_environ(environ)).handle


_handler: Handler | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point of the merge function (environment: see ``metrics.settings``)."""
    global _handler  # noqa: PLW0603 - one merge per container, built on first use
    if _handler is None:
        _handler = create_handler(os.environ)
    return _handler(event, context)


def quiet_minutes(due: Slot, published: Slot | None, merged: Mapping[Slot, Segments]) -> list[Slot]:
    """Minutes that closed since the last run without any summary: nobody was active in them.

    At most the last :data:`MAX_QUIET_MINUTES`; the first run ever vouches for its own minute only.
    """
    first = due.index if published is None else published.index + 1
    return [
        Slot(MINUTE, index)
        for index in range(max(first, due.index - MAX_QUIET_MINUTES + 1), due.index + 1)
        if Slot(MINUTE, index) not in merged
    ]


def _requested(event: Mapping[str, Any], now: float) -> Slot | None:
    """The minute an event asks to merge through (never past the current one), or None."""
    text = event.get("through") if isinstance(event, Mapping) else None
    if text is None:
        return None
    try:
        requested = Slot.parse(MINUTE, str(text))
    except ValueError:
        raise MergeRequestError(
            f"'through' must be a UTC minute like 2026-12-01T10:07; got {text!r}"
        ) from None
    current = Slot.of(MINUTE, now)
    return requested if requested.index <= current.index else current
