"""Tumbling-window state: distinct users of the window so far, and what has been counted.

With a tumbling window on the event source mapping, Lambda hands each invocation the ``state``
the previous invocation of the same window and shard returned, and flags the last invocation
of the window (``isFinalInvokeForWindow``). The state must stay under 1 MB per shard, or Lambda
ends the window early; ours stays under :data:`STATE_BUDGET_BYTES` by switching exact counters
to their HLL sketch, largest first, when it would grow past it.

Duplicates. Within a shard Lambda delivers records in sequence-number order the first time, and
retries resume from a checkpoint, so a record whose sequence number is at or below the highest
one this window's state has counted (the *high-water mark*) has been counted already and is
skipped. That is exact and O(1) in state size. Across windows nothing is remembered: a record
redelivered in a later window (after a failed final invoke, say) is counted again, so the
metrics are at-least-once, like EMF itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ddbstream import ParsedBatch
from metrics.aggregate import TableAggregate
from metrics.errors import WindowStateError
from metrics.sketch import DistinctCounter, sketch_largest_until
from metrics.usage_items import WindowSummary

STATE_VERSION = "1"
STATE_BUDGET_BYTES = 512 * 1024
"""Half of Lambda's 1 MB per shard: room to spare for Lambda's own encoding of the state."""


@dataclass(frozen=True, slots=True)
class Window:
    """The tumbling window an invocation belongs to."""

    start: dt.datetime | None
    """None when Lambda's window start cannot be read; ActiveUsers then carry the processing time."""
    is_final: bool
    terminated_early: bool

    @property
    def closes(self) -> bool:
        """Whether this invocation ends the window: its state will not come back."""
        return self.is_final or self.terminated_early


def _instant(text: object) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def read_window(event: Mapping[str, Any]) -> Window | None:
    """The window of a tumbling-window invocation, or None when the mapping has no window."""
    raw = event.get("window")
    if not isinstance(raw, Mapping):
        return None
    return Window(
        start=_instant(raw.get("start")),
        is_final=event.get("isFinalInvokeForWindow") is True,
        terminated_early=event.get("isWindowTerminatedEarly") is True,
    )


def _sequence(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() else None


@dataclass(slots=True)
class WindowState:
    """What a window has seen so far: its high-water mark and distinct users by table and segment."""

    high_water: int | None = None
    users: dict[str, dict[str, DistinctCounter]] = field(default_factory=dict)
    first: int | None = None
    """The lowest sequence number this state counted: with the shard, it names the window's
    summary in the usage table, the same on every redelivery of the window's final invoke."""
    changes: dict[str, dict[str, int]] = field(default_factory=dict)
    """Item changes counted, by table and segment (the window summary's counts)."""

    @classmethod
    def from_lambda(cls, raw: object) -> WindowState:
        """Read the ``state`` of the event; an empty or missing one starts the window afresh."""
        if raw is None or raw == {}:
            return cls()
        if not isinstance(raw, Mapping) or raw.get("v") != STATE_VERSION:
            raise WindowStateError(f"window state is not version {STATE_VERSION} of the metrics state")
        try:
            high_water = _sequence(raw.get("hwm") or None)
            tables = json.loads(raw.get("users") or "{}")
            users = {
                str(table): {
                    str(segment): DistinctCounter.from_text(text) for segment, text in segments.items()
                }
                for table, segments in tables.items()
            }
            # "first" and "changes" came with the usage table: a state without them reads as empty.
            first = _sequence(raw.get("first") or None)
            changes = {
                str(table): {str(segment): int(count) for segment, count in segments.items()}
                for table, segments in json.loads(raw.get("changes") or "{}").items()
            }
        except (ValueError, TypeError, AttributeError) as exc:
            raise WindowStateError(f"window state cannot be read: {exc}") from None
        return cls(high_water=high_water, users=users, first=first, changes=changes)

    def to_lambda(self, budget: int = STATE_BUDGET_BYTES) -> dict[str, str]:
        """The ``state`` to return to Lambda, within ``budget`` bytes of JSON."""
        counters = [counter for segments in self.users.values() for counter in segments.values()]
        if not sketch_largest_until(counters, lambda: len(json.dumps(self._encode())), budget):
            raise WindowStateError(
                f"window state exceeds {budget} bytes even with every counter sketched: "
                "too many tables or segments"
            )
        return self._encode()

    def _encode(self) -> dict[str, str]:
        users = {
            table: {segment: counter.to_text() for segment, counter in segments.items()}
            for table, segments in self.users.items()
        }
        return {
            "v": STATE_VERSION,
            "hwm": "" if self.high_water is None else str(self.high_water),
            "first": "" if self.first is None else str(self.first),
            "users": json.dumps(users, separators=(",", ":")),
            "changes": json.dumps(self.changes, separators=(",", ":")),
        }

    def take_fresh(self, batch: ParsedBatch) -> tuple[ParsedBatch, int]:
        """Drop what this window has counted already and advance the high-water mark.

        Returns the batch of records still to count and how many were dropped as duplicates.
        Rejected records without a readable sequence number cannot be recognised: they always count.
        """
        start = mark = -1 if self.high_water is None else self.high_water
        fresh = []
        for record in batch.records:
            if record.sequence > mark:
                fresh.append(record)
                mark = record.sequence
        rejected = []
        for bad in batch.rejected:
            sequence = _sequence(bad.sequence_number)
            if sequence is None or sequence > start:
                rejected.append(bad)
                mark = max(mark, sequence or mark)
        duplicates = len(batch.records) + len(batch.rejected) - len(fresh) - len(rejected)
        self.high_water = None if mark < 0 else mark
        if self.first is None and fresh:
            self.first = fresh[0].sequence
        return replace(batch, records=tuple(fresh), rejected=tuple(rejected)), duplicates

    def add_users(self, tables: Mapping[str, TableAggregate]) -> None:
        """Count the users and changes of a batch into the window (a table with no users is still
        registered)."""
        for table, agg in tables.items():
            segments = self.users.setdefault(table, {})
            for segment, digests in agg.users.items():
                segments.setdefault(segment, DistinctCounter()).update(digests)
            changes = self.changes.setdefault(table, {})
            for segment, count in agg.by_segment.items():
                changes[segment] = changes.get(segment, 0) + count

    def summaries(self, *, window_start: dt.datetime, shard_id: str) -> list[WindowSummary]:
        """What this window saw, per table, to store when it closes (nothing if it counted nothing)."""
        if self.first is None:
            return []
        return [
            WindowSummary(
                table=table,
                window_start=window_start,
                shard_id=shard_id,
                first_sequence=self.first,
                users=dict(self.users.get(table, {})),
                changes=dict(self.changes.get(table, {})),
            )
            for table in sorted(set(self.users) | set(self.changes))
            if self.users.get(table) or any(self.changes.get(table, {}).values())
        ]
