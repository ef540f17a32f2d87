"""Table-wide active users from four shards' window summaries: the consumer stores, the merge publishes.

Records are written to moto's table and read from its stream, then delivered to the consumer on
four shards by ``tests.support.shard_windows`` (a stand-in for the local runner's virtual shards,
see there); the merge function runs on the usage table they fill. Ground truth is what the writes
were, kept by ``tests.support.usage.UsageModel``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest

from metrics.merge import Merge
from metrics.periods import MINUTE, Slot
from metrics.settings import MergeSettings, UsageTable
from metrics.store import UsageStore
from telemetry import catalogue as c
from tests.support.consumer import Run
from tests.support.emf import parse_output
from tests.support.shard_windows import by_shard, close_window, run_window, shard_id
from tests.support.usage import SEGMENTS, SETTINGS, Expected, UsageModel

PLATFORMS = ("ios", "android", "web", "tv")  # "tv" is outside the segments: "other"
Figures = dict[tuple[str, str | None, int], float]


def _minute(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _write(model: UsageModel, users: range, *, writes_each: int, base: int) -> Expected:
    """Each user writes ``writes_each`` items, one round of all users after another (so a shard's
    records hold every one of its users in its first half and again in its second)."""
    model.expected = Expected()
    for round_ in range(writes_each):
        for user in users:
            model.put(
                {"user_id": f"user-{user:04d}", "timestamp": base + round_, "platform": PLATFORMS[user % 4]}
            )
    return model.expected


def _truth(*phases: Expected) -> dict[str | None, int]:
    by_segment: dict[str, set[str]] = {}
    for phase in phases:
        for segment, users in phase.users_by_segment.items():
            by_segment.setdefault(segment, set()).update(users)
    out: dict[str | None, int] = {None: len(set().union(*by_segment.values()))}
    out.update({segment: len(by_segment.get(segment, set())) for segment in (*SEGMENTS, "other")})
    return out


def _figures(text: str) -> Figures:
    """Every published value by (metric, segment or None for the total, timestamp in ms)."""
    out: Figures = {}
    for document in parse_output(text):
        for series in document.series:
            (value,) = series.values
            out[(series.metric, series.dimensions.get(c.SEGMENT), document.timestamp_ms)] = value
    return out


def _at(figures: Figures, metric: str, minute: str) -> dict[str | None, float]:
    stamp = int(_minute(minute).timestamp() * 1000)
    return {segment: v for (name, segment, when), v in figures.items() if name == metric and when == stamp}


class Shards:
    """The consumer, its usage table, and the merge, for one scenario."""

    def __init__(self, store: UsageStore, table: str) -> None:
        self.store = store
        self.run = Run(SETTINGS, store=store)
        self.out = io.StringIO()
        self.clock = 0.0
        settings = MergeSettings(SETTINGS, UsageTable(store.table_name), source_table=table)
        self.merge = Merge(settings, store, self.out, clock=lambda: self.clock)

    def windows(self, start: str, records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Every shard's window over ``records``; returns each shard's state before its final invoke."""
        return {shard: run_window(self.run, shard, start, mine) for shard, mine in by_shard(records).items()}

    def merge_at(self, when: str) -> Figures:
        self.clock = _minute(when).timestamp()
        before = len(self.out.getvalue())
        self.merge.handle({"version": "0", "detail-type": "Scheduled Event"}, None)
        return _figures(self.out.getvalue()[before:])

    def summaries(self, minute: str) -> list[str]:
        slot = Slot.of(MINUTE, _minute(minute))
        return [item["sk"]["S"] for item in self.store.minute_summaries("Users", slot)]


def test_four_shards_a_split_and_a_redelivery_give_table_wide_users_equal_to_the_truth(regions, usage_store):
    table = regions.config.table_name
    model = UsageModel(regions.source, table, regions.tap)
    shards = Shards(usage_store, table)

    # GIVEN minute 10:07: 24 users on 4 shards (a user's items share a partition key, so a shard)
    first = _write(model, range(0, 24), writes_each=2, base=0)
    states = shards.windows("2026-12-01T10:07:00Z", model.read_event()["Records"])
    for shard, state in states.items():
        close_window(shards.run, shard, "2026-12-01T10:07:00Z", state)

    # AND minute 10:08: 24 users, 12 of them active at 10:07 too; shard 0 splits in the middle of
    # the window (the parent's window closes, a child starts a fresh one in the same minute), and
    # shard 1's final invoke is delivered twice (its first answer lost, say)
    second = _write(model, range(12, 36), writes_each=2, base=100)
    records = by_shard(model.read_event()["Records"])
    start = "2026-12-01T10:08:00Z"
    parent, child = shard_id(0), f"{shard_id(0)}-child"
    half = len(records[parent]) // 2
    close_window(shards.run, parent, start, run_window(shards.run, parent, start, records[parent][:half]))
    close_window(shards.run, child, start, run_window(shards.run, child, start, records[parent][half:]))
    for number in (1, 2, 3):
        state = run_window(shards.run, shard_id(number), start, records[shard_id(number)])
        close_window(shards.run, shard_id(number), start, state)
        if number == 1:
            close_window(shards.run, shard_id(number), start, state)

    # WHEN the merge runs in the minute after 10:08 (past its 30 s grace)
    figures = shards.merge_at("2026-12-01T10:09:31")

    # THEN the split left two summaries and the redelivery one, and nothing counts twice:
    # table-wide ActiveUsers per minute and the rolling figures equal the ground truth, per segment
    assert {sk.split("#")[2] for sk in shards.summaries(start)} == {
        parent,
        child,
        shard_id(1),
        *(shard_id(n) for n in (2, 3)),
    }
    assert sum(shard_id(1) in sk for sk in shards.summaries(start)) == 1
    assert _at(figures, c.ACTIVE_USERS.name, "2026-12-01T10:07") == _truth(first)
    assert _at(figures, c.ACTIVE_USERS.name, "2026-12-01T10:08") == _truth(second)
    for spec in (c.HOURLY_ACTIVE_USERS, c.DAILY_ACTIVE_USERS, c.MONTHLY_ACTIVE_USERS):
        assert _at(figures, spec.name, "2026-12-01T10:08") == _truth(first, second), spec.name
    assert _at(figures, c.STICKINESS.name, "2026-12-01T10:08")[None] == 100.0

    # AND GIVEN minute 11:30, in the next clock hour: 10 users, 6 of them seen at 10:08
    third = _write(model, range(30, 40), writes_each=1, base=200)
    for shard, state in shards.windows("2026-12-01T11:30:00Z", model.read_event()["Records"]).items():
        close_window(shards.run, shard, "2026-12-01T11:30:00Z", state)
    # WHEN the merge runs after it
    figures = shards.merge_at("2026-12-01T11:31:31")
    # THEN the rolling hour holds 11:30 only (10:08 is 82 minutes back), the day and month all
    assert _at(figures, c.ACTIVE_USERS.name, "2026-12-01T11:30") == _truth(third)
    assert _at(figures, c.HOURLY_ACTIVE_USERS.name, "2026-12-01T11:30") == _truth(third)
    for spec in (c.DAILY_ACTIVE_USERS, c.MONTHLY_ACTIVE_USERS):
        assert _at(figures, spec.name, "2026-12-01T11:30") == _truth(first, second, third), spec.name
    # AND the quiet minutes before 11:30 are published as 0 (the last ten, at most)
    assert _at(figures, c.ACTIVE_USERS.name, "2026-12-01T11:29") == dict.fromkeys(
        (None, *SEGMENTS, "other"), 0
    )
    assert _at(figures, c.ACTIVE_USERS.name, "2026-12-01T11:20") == {}


def test_a_summary_later_than_its_minute_is_merged_into_the_minute_the_hour_and_the_day(regions, usage_store):
    table = regions.config.table_name
    model = UsageModel(regions.source, table, regions.tap)
    shards = Shards(usage_store, table)
    start = "2026-12-01T10:07:00Z"
    # GIVEN minute 10:07 on four shards, shard 3's final invoke not made yet (its shard is behind)
    written = _write(model, range(0, 20), writes_each=1, base=0)
    states = shards.windows(start, model.read_event()["Records"])
    for shard, state in states.items():
        if shard != shard_id(3):
            close_window(shards.run, shard, start, state)
    early = shards.merge_at("2026-12-01T10:08:31")
    # WHEN shard 3's window closes after the merge published 10:07, and the merge runs again
    close_window(shards.run, shard_id(3), start, states[shard_id(3)])
    late = shards.merge_at("2026-12-01T10:09:31")
    # THEN 10:07 is published again with its full count (same timestamp: the graph's Maximum), and
    # the rolling figures at 10:08 hold every user
    assert _at(early, c.ACTIVE_USERS.name, "2026-12-01T10:07")[None] < written.active_users
    assert _at(late, c.ACTIVE_USERS.name, "2026-12-01T10:07") == _truth(written)
    assert _at(late, c.DAILY_ACTIVE_USERS.name, "2026-12-01T10:08") == _truth(written)


def test_stored_summaries_hold_digests_never_user_ids(regions, usage_store):
    # GIVEN a window with users whose ids are long enough to be recognised in any encoding
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    shards = Shards(usage_store, regions.config.table_name)
    _write(model, range(0, 30), writes_each=1, base=0)
    for shard, state in shards.windows("2026-12-01T10:07:00Z", model.read_event()["Records"]).items():
        close_window(shards.run, shard, "2026-12-01T10:07:00Z", state)
    shards.merge_at("2026-12-01T10:08:31")
    # WHEN the whole usage table and the consumer's and merge's output are read
    items = regions.source.scan(TableName=usage_store.table_name)["Items"]
    stored = json.dumps(items, default=lambda raw: raw.hex() + raw.decode("latin-1"))
    text = shards.run.out.getvalue() + shards.out.getvalue()
    # THEN no user id appears anywhere, and no ActiveUsers came from a single shard
    assert items
    for user in range(30):
        assert f"user-{user:04d}" not in stored and f"user-{user:04d}" not in text
    assert not any(
        s.metric == c.ACTIVE_USERS.name for docs in shards.run.documents for d in docs for s in d.series
    )


@pytest.mark.parametrize("through", ["10:07", "not a minute"], ids=["short", "garbage"])
def test_a_merge_request_for_an_unreadable_minute_is_refused(regions, usage_store, through):
    shards = Shards(usage_store, regions.config.table_name)
    with pytest.raises(ValueError, match="'through' must be a UTC minute"):
        shards.merge.handle({"through": through}, None)
