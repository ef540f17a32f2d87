"""The merge rules for distinct users (pure): unions per segment, totals, stickiness.

Every level of the usage table holds, per segment, a :class:`~metrics.sketch.DistinctCounter`.
Merging is a union per segment, and a union is idempotent, commutative and associative: a summary
delivered twice, merged twice or merged in any order counts each user once. That is the whole
reason the merge can be at-least-once, and why a shard split needs no special case (the parent's
and the child's summaries of a minute are two summaries of that minute, unioned like any two).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from metrics.sketch import DistinctCounter, union

Segments = dict[str, DistinctCounter]
"""Distinct users by segment (``"other"`` included; no total: the total is their union)."""


def union_segments(maps: Iterable[Mapping[str, DistinctCounter]]) -> Segments:
    """Per segment, the union of every map's counter (new counters: the inputs are not changed)."""
    merged: Segments = {}
    for segments in maps:
        for segment, counter in segments.items():
            merged.setdefault(segment, DistinctCounter()).merge(counter)
    return merged


def add_counts(maps: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Per segment, the sum of the counts (summaries of one minute count different records)."""
    total: dict[str, int] = {}
    for counts in maps:
        for segment, count in counts.items():
            total[segment] = total.get(segment, 0) + count
    return total


def same(one: Mapping[str, DistinctCounter], other: Mapping[str, DistinctCounter]) -> bool:
    """Whether two maps hold the same counters (same segments, same encoded content)."""
    return one.keys() == other.keys() and all(one[s].to_bytes() == other[s].to_bytes() for s in one)


def total(segments: Mapping[str, DistinctCounter]) -> DistinctCounter:
    """Everyone in any segment, once (a user active on two platforms counts once)."""
    return union(segments.values())


def estimates(segments: Mapping[str, DistinctCounter], names: Iterable[str]) -> dict[str | None, int]:
    """The total (key None) and each named segment's count; a segment nobody was in counts 0."""
    counts: dict[str | None, int] = {None: total(segments).estimate()}
    for name in names:
        counts[name] = segments[name].estimate() if name in segments else 0
    return counts


def stickiness(daily: Mapping[str | None, int], monthly: Mapping[str | None, int]) -> dict[str | None, float]:
    """DAU / MAU in percent, for the total and each segment with monthly users (capped at 100:
    above the exact bound both are estimates, and DAU may come out a hair above MAU)."""
    return {key: min(100.0, 100.0 * daily.get(key, 0) / users) for key, users in monthly.items() if users > 0}
