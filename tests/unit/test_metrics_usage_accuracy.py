"""The stated error of the merged figures, against ground truth: exact below the bound, within 2% at
1M distinct users, through every level the usage table stores (shard window -> minute -> hour ->
day -> 30 days), each level going through its binary form as it would through DynamoDB.

Built directly from 64-bit digests (what ``hash64`` makes of a user id), so a million users take a
second or two, not a workload.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import numpy as np

from metrics.rollup import Segments, estimates, union_segments
from metrics.sketch import EXACT_LIMIT, DistinctCounter

SEGMENTS = ("ios", "android", "web", "other")
SHARDS = 4
HOURS = 24
SKETCH_BYTES = 16_500
"""The bound docs/metrics.md uses for one segment's sketch ("Storage"); measured here."""


def _stored(segments: Segments) -> Segments:
    """A round trip through the usage table's binary attribute."""
    return {name: DistinctCounter.from_bytes(counter.to_bytes()) for name, counter in segments.items()}


def _shard_summary(digests: dict[str, list[int]]) -> Segments:
    segments: Segments = {}
    for segment, found in digests.items():
        segments[segment] = DistinctCounter()
        segments[segment].update(found)
    return _stored(segments)


@dataclass(frozen=True)
class Users:
    """``digests[i]`` is user i's 64-bit digest; the user is in segment ``SEGMENTS[i % 4]`` and
    active in two different hours of the day, ``i % 24`` and ``(7 i + 5) % 24``."""

    digests: np.ndarray

    @classmethod
    def distinct(cls, count: int, seed: int) -> Users:
        digests = np.frombuffer(random.Random(seed).randbytes(8 * count), dtype="<i8")
        assert len(set(digests.tolist())) == count  # 64-bit collisions: about 3e-8 at a million
        return cls(digests)

    def activity(self) -> np.ndarray:
        """(hour, shard, segment, digest) rows, one per user and hour active."""
        index = np.arange(len(self.digests))
        rows = [
            np.stack([hours, (self.digests >> 3) % SHARDS, index % len(SEGMENTS), self.digests])
            for hours in (index % HOURS, (7 * index + 5) % HOURS)
        ]
        return np.concatenate(rows, axis=1).T

    def per_hour(self) -> Counter[int]:
        return Counter(self.activity()[:, 0].tolist())


def _month(users: Users) -> tuple[Segments, list[Segments]]:
    """Every level, as the merge builds it: shard summaries of one minute in each hour, the minute,
    the hour, the day (of 24 hours), the 30 days (of that day and 29 empty ones)."""
    rows = users.activity()
    rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]
    groups, first = np.unique(rows[:, :3], axis=0, return_index=True)
    ends = [*first[1:].tolist(), len(rows)]
    windows: dict[tuple[int, int], dict[str, list[int]]] = {}
    for (hour, shard, segment), begin, end in zip(groups.tolist(), first.tolist(), ends, strict=True):
        windows.setdefault((hour, shard), {})[SEGMENTS[segment]] = rows[begin:end, 3].tolist()
    hours = []
    for hour in range(HOURS):
        summaries = [_shard_summary(windows.get((hour, shard), {})) for shard in range(SHARDS)]
        minute = _stored(union_segments(summaries))
        hours.append(_stored(union_segments([minute])))
    day = _stored(union_segments(hours))
    month = _stored(union_segments([day, *({} for _ in range(29))]))
    return month, hours


def test_below_the_bound_every_level_is_exact():
    # GIVEN 4,000 users (each segment and the total under 4,096), active in two hours each
    users = Users.distinct(4_000, seed=1)
    # WHEN the levels are merged from four shards' summaries
    month, hours = _month(users)
    # THEN the month, and every hour, count exactly the users there were
    expected: dict[str | None, int] = {None: 4_000, **dict.fromkeys(SEGMENTS, 1_000)}
    assert estimates(month, SEGMENTS) == expected
    truth = users.per_hour()
    for hour, segments in enumerate(hours):
        assert estimates(segments, SEGMENTS)[None] == truth[hour]
    assert all(counter.is_exact for counter in month.values())


def test_a_million_distinct_users_are_counted_within_2_percent_in_16_kb_per_segment():
    # GIVEN 1,000,000 distinct users over a day, 250,000 per segment, each active in two hours
    users = Users.distinct(1_000_000, seed=7)
    # WHEN every level is merged, as the usage table stores it
    month, hours = _month(users)
    # THEN the 30-day figure is within 2% of the truth, in total and per segment
    counts = estimates(month, SEGMENTS)
    assert abs(counts[None] - 1_000_000) / 1_000_000 < 0.02, counts
    for segment in SEGMENTS:
        assert abs(counts[segment] - 250_000) / 250_000 < 0.02, (segment, counts[segment])
    # AND the hours too (each holds 2/24 of the users: ~83,000)
    truth = users.per_hour()
    for hour, segments in enumerate(hours):
        assert abs(estimates(segments, ())[None] - truth[hour]) / truth[hour] < 0.02
    # AND a segment's sketch takes the few kilobytes docs/metrics.md counts on, whatever the users
    sizes = [len(counter.to_bytes()) for counter in month.values()]
    assert all(not counter.is_exact for counter in month.values())
    assert max(sizes) <= SKETCH_BYTES, sizes
    assert EXACT_LIMIT * 8 > SKETCH_BYTES  # a sketch is smaller than the exact set it replaces
