"""The usage table's items, as AttributeValue maps in boto3's client shape (pure).

The table has a string partition key ``pk``, a string sort key ``sk`` and TTL on ``expires_at``.
Every key starts with the source table's name (DynamoDB table names have no ``#``):

=================  ==========================  ===============================================  ============
item               pk                          sk                                               expires
=================  ==========================  ===============================================  ============
window summary     ``<table>#minute#<minute>``  ``window#<window start>#<shard id>#<first seq>``  minute + 2 d
merged minute      ``<table>#minute#<minute>``  ``merged``                                       minute + 2 d
merged hour, day   ``<table>#hour#<hour>``,     ``merged``                                       hour + 3 d,
                   ``<table>#day#<day>``                                                         day + 35 d
pending minute     ``<table>#pending``          ``<minute>``                                     minute + 2 d
merge progress     ``<table>#merge``            ``progress``                                     never
=================  ==========================  ===============================================  ============

A window summary's key is a function of its window only (minute, window start, shard, the first
sequence number the window counted), so a redelivered final invoke overwrites the same item; the
parent and a child of a split are different shards, hence different items of the same minute.
``users`` maps each segment to a :class:`~metrics.sketch.DistinctCounter` in its binary form
(hashed ids, never the ids), ``changes`` each segment to its item-change count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from metrics.errors import UsageDataError
from metrics.periods import MINUTE, Slot
from metrics.rollup import Segments
from metrics.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from metrics.sketch import DistinctCounter, sketch_largest_until

MERGED = "merged"
WINDOW_PREFIX = "window#"
"""How every window summary's sort key starts (the merged item's is ``merged``)."""
ITEM_BUDGET = 300_000
"""Bytes of sketches per item: DynamoDB's limit is 400 KB, names and numbers included."""

Item = dict[str, Any]


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """What one shard's tumbling window saw of one table."""

    table: str
    window_start: dt.datetime
    shard_id: str
    first_sequence: int
    users: Segments
    changes: Mapping[str, int]

    @property
    def minute(self) -> Slot:
        return Slot.of(MINUTE, self.window_start)


def slot_partition(table: str, slot: Slot) -> str:
    return f"{table}#{slot.period.name}#{slot.text()}"


def merged_key(table: str, slot: Slot) -> Item:
    return {PARTITION_KEY: {"S": slot_partition(table, slot)}, SORT_KEY: {"S": MERGED}}


def summary_key(summary: WindowSummary) -> Item:
    start = summary.window_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    sort = f"{WINDOW_PREFIX}{start}#{summary.shard_id}#{summary.first_sequence}"
    return {PARTITION_KEY: {"S": slot_partition(summary.table, summary.minute)}, SORT_KEY: {"S": sort}}


def pending_key(table: str, minute: Slot) -> Item:
    return {PARTITION_KEY: {"S": pending_partition(table)}, SORT_KEY: {"S": minute.text()}}


def pending_partition(table: str) -> str:
    return f"{table}#pending"


def progress_key(table: str) -> Item:
    return {PARTITION_KEY: {"S": f"{table}#merge"}, SORT_KEY: {"S": "progress"}}


def _encoded_size(segments: Mapping[str, DistinctCounter]) -> int:
    return sum(len(name) + len(counter.to_bytes()) for name, counter in segments.items())


def fit(segments: Segments) -> Segments:
    """Sketch the largest exact counters until the item fits DynamoDB's 400 KB (17 segments of
    4,096 exact users would not); raises when even sketches do not fit."""
    if not sketch_largest_until(list(segments.values()), lambda: _encoded_size(segments), ITEM_BUDGET):
        raise UsageDataError(f"{len(segments)} segment sketches exceed {ITEM_BUDGET} bytes in one item")
    return segments


def encode_users(segments: Segments) -> Item:
    return {"M": {segment: {"B": counter.to_bytes()} for segment, counter in fit(segments).items()}}


def decode_users(item: Mapping[str, Any]) -> Segments:
    """The ``users`` attribute of an item; an item without it has no users."""
    raw = item.get("users", {"M": {}})
    try:
        return {
            str(segment): DistinctCounter.from_bytes(bytes(value["B"])) for segment, value in raw["M"].items()
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise UsageDataError(f"the users of item {item.get(PARTITION_KEY)} cannot be read: {exc}") from None


def decode_changes(item: Mapping[str, Any]) -> dict[str, int]:
    raw = item.get("changes", {"M": {}})
    try:
        return {str(segment): int(value["N"]) for segment, value in raw["M"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageDataError(f"the changes of item {item.get(PARTITION_KEY)} cannot be read: {exc}") from None


def _counts(changes: Mapping[str, int]) -> Item:
    return {"M": {segment: {"N": str(count)} for segment, count in changes.items()}}


def summary_item(summary: WindowSummary) -> Item:
    return {
        **summary_key(summary),
        "users": encode_users(dict(summary.users)),
        "changes": _counts(summary.changes),
        TTL_ATTRIBUTE: {"N": str(summary.minute.expires_at())},
    }


def pending_item(table: str, minute: Slot, token: str) -> Item:
    expires = {"N": str(minute.expires_at())}
    return {**pending_key(table, minute), "token": {"S": token}, TTL_ATTRIBUTE: expires}


def merged_item(
    table: str, slot: Slot, segments: Segments, *, version: int, changes: Mapping[str, int] | None = None
) -> Item:
    item = {
        **merged_key(table, slot),
        "users": encode_users(segments),
        "version": {"N": str(version)},
        TTL_ATTRIBUTE: {"N": str(slot.expires_at())},
    }
    if changes is not None:
        item["changes"] = _counts(changes)
    return item


def version_of(item: Mapping[str, Any] | None) -> int:
    return int(item["version"]["N"]) if item and "version" in item else 0


def progress_item(table: str, through: Slot) -> Item:
    return {**progress_key(table), "through": {"S": through.text()}}


def progress_of(item: Mapping[str, Any] | None) -> Slot | None:
    """The last minute the merge published, from its progress item (None before the first run)."""
    if not item or "through" not in item:
        return None
    try:
        return Slot.parse(MINUTE, str(item["through"]["S"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageDataError(f"the merge progress item cannot be read: {exc}") from None
