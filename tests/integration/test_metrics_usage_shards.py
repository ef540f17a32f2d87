"""Table-wide active users from four virtual shards' window summaries: stored by the consumer, published
by the merge.

Writes go to moto's table. The local event source mapping reads its stream as four virtual shards
with one-minute tumbling windows (as deployed), splits one of them in the middle of a window, and
invokes the usage-metrics consumer in one execution environment per shard, as Lambda does. The
merge function then runs on the usage table they filled.

Windows follow the records' creation time, which is real time, so a run may straddle a minute.
Each minute's ground truth is therefore taken from the records themselves: the users whose writes
DynamoDB stamped in that minute, in the segment each write was made on.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from localrun.esm import EventSourceMapping
from metrics.merge import Merge
from metrics.periods import MINUTE, Slot
from metrics.settings import MergeSettings, UsageTable
from metrics.store import UsageStore
from telemetry import catalogue as c
from tests.support.consumer import Run
from tests.support.emf import parse_output
from tests.support.esm import Clock
from tests.support.mapping import drive
from tests.support.usage import SEGMENTS, SETTINGS, UsageModel, windowed
from tests.support.usage_shards import Environments, close_windows, sharded

PLATFORMS = ("ios", "android", "web", "tv")  # "tv" is outside the segments: "other"
GRACE = MergeSettings(SETTINGS, UsageTable("unused"), "Users").grace_seconds
Figures = dict[tuple[str, str | None, int], float]
Truth = dict[str | None, int]


def _minute_of(record: dict[str, Any]) -> str:
    created = int(record["dynamodb"]["ApproximateCreationDateTime"]) // 60 * 60
    return dt.datetime.fromtimestamp(created, dt.UTC).strftime("%Y-%m-%dT%H:%M")


def _truth(records: Iterable[dict[str, Any]]) -> Truth:
    """Distinct users overall and per segment: the table's truth, whatever the shards."""
    users: dict[str, set[str]] = {segment: set() for segment in (*SEGMENTS, "other")}
    for record in records:
        image = record["dynamodb"]["NewImage"]
        platform = image["platform"]["S"]
        users[platform if platform in SEGMENTS else "other"].add(image["user_id"]["S"])
    out: Truth = {None: len(set().union(*users.values()))}
    out.update({segment: len(ids) for segment, ids in users.items()})
    return out


def _by_minute(records: list[dict[str, Any]]) -> dict[str, Truth]:
    minutes = sorted({_minute_of(r) for r in records})
    return {minute: _truth(r for r in records if _minute_of(r) == minute) for minute in minutes}


def _epoch(minute: str) -> float:
    return dt.datetime.fromisoformat(minute).replace(tzinfo=dt.UTC).timestamp()


def _figures(text: str) -> Figures:
    """Every published value by (metric, segment or None for the total, timestamp in ms)."""
    out: Figures = {}
    for document in parse_output(text):
        for series in document.series:
            (value,) = series.values
            out[(series.metric, series.dimensions.get(c.SEGMENT), document.timestamp_ms)] = value
    return out


def _at(figures: Figures, metric: str, minute: str) -> dict[str | None, float]:
    stamp = int(_epoch(minute) * 1000)
    return {segment: v for (name, segment, when), v in figures.items() if name == metric and when == stamp}


class Merger:
    """The merge function on the usage table, run at a chosen moment."""

    def __init__(self, store: UsageStore, table: str) -> None:
        self.store = store
        self.out = io.StringIO()
        self.now = 0.0
        settings = MergeSettings(SETTINGS, UsageTable(store.table_name), source_table=table)
        self.merge = Merge(settings, store, self.out, clock=lambda: self.now)

    def after(self, minute: str) -> Figures:
        """A scheduled run just past ``minute``'s grace: it merges every minute up to that one."""
        self.now = _epoch(minute) + MINUTE.seconds + GRACE + 1
        before = len(self.out.getvalue())
        self.merge.handle({"version": "0", "detail-type": "Scheduled Event"}, None)
        return _figures(self.out.getvalue()[before:])

    def summaries(self, minute: str) -> list[str]:
        """The shard of every window summary filed under ``minute``."""
        slot = Slot.of(MINUTE, dt.datetime.fromtimestamp(_epoch(minute), dt.UTC))
        return [item["sk"]["S"].split("#")[2] for item in self.store.minute_summaries("Users", slot)]


@dataclass
class Scenario:
    """The source table's workload model, the consumer on four virtual shards, and the merge."""

    model: UsageModel
    environments: Environments
    mapping: EventSourceMapping
    merger: Merger
    clock: Clock

    def write(self, users: Iterable[int], *, base: int, platform_shift: int = 0) -> None:
        """Each user writes one new item, on a platform of its own (shifted, for a second round)."""
        for user in users:
            platform = PLATFORMS[(user + platform_shift) % 4]
            self.model.put({"user_id": f"user-{user:04d}", "timestamp": base + user, "platform": platform})

    def close(self) -> list[dict[str, Any]]:
        """Every window closed; the records written so far, read from the stream."""
        close_windows(self.mapping, self.clock)
        return self.model.read_event()["Records"]


@pytest.fixture
def scenario(regions, usage_store, make_mapping, clock) -> Scenario:
    table = regions.config.table_name
    environments = Environments(usage_store)
    return Scenario(
        UsageModel(regions.source, table, regions.tap),
        environments,
        sharded(make_mapping, environments),
        Merger(usage_store, table),
        clock,
    )


def test_four_virtual_shards_a_split_and_a_lost_final_answer_give_table_wide_users_equal_to_the_truth(
    scenario,
):
    mapping, environments, merger = scenario.mapping, scenario.environments, scenario.merger
    # GIVEN 24 users writing once, on four shards (a user's items share a partition key, so a shard)
    scenario.write(range(0, 24), base=0)
    drive(mapping, 10)
    parent, lost = mapping.shards[0], mapping.shards[1]
    environments.lose_final_answer_of = lost
    # AND a shard split in the middle of its window: the parent's window closes early, its
    # children start fresh windows in the same minute
    children = mapping.split(parent)
    # AND 24 users writing again, 12 of them already seen (by the parent, if they hash to it), each
    # of those now on another platform, so a user is in two segments
    scenario.write(range(12, 36), base=100, platform_shift=1)
    drive(mapping, 10)
    # WHEN every window ends (the lost shard's final invoke is made twice) and the merge runs
    records = scenario.close()
    truth = _by_minute(records)
    last = max(truth)
    figures = merger.after(last)

    # THEN the split left the parent's summary and its children's, the lost answer one summary
    filed = [shard for minute in truth for shard in merger.summaries(minute)]
    assert parent in filed and set(filed) <= {*mapping.shards, parent} and set(children) & set(filed)
    assert environments.finals[lost] == len({m for m in truth if lost in merger.summaries(m)}) + 1
    assert all(merger.summaries(minute).count(lost) <= 1 for minute in truth)
    # AND table-wide ActiveUsers of each minute equal the truth per segment: no double count at the
    # split, across segments, or of the redelivered summary
    for minute, users in truth.items():
        assert _at(figures, c.ACTIVE_USERS.name, minute) == users, minute
    # AND the rolling hour, day and month hold every user of the run, each once
    everyone = _truth(records)
    assert everyone[None] == 36 and sum(everyone[s] for s in (*SEGMENTS, "other")) == 48
    for spec in (c.HOURLY_ACTIVE_USERS, c.DAILY_ACTIVE_USERS, c.MONTHLY_ACTIVE_USERS):
        assert _at(figures, spec.name, last) == everyone, spec.name
    assert _at(figures, c.STICKINESS.name, last)[None] == 100.0
    # AND no ActiveUsers came from a shard: only the merge publishes it
    published = (
        s.metric
        for run in environments.runs.values()
        for d in parse_output(run.out.getvalue())
        for s in d.series
    )
    assert c.ACTIVE_USERS.name not in set(published)


def test_a_shard_closing_after_the_merge_is_merged_into_its_minute_the_hour_and_the_day(scenario):
    mapping, environments, merger = scenario.mapping, scenario.environments, scenario.merger
    # GIVEN 40 users' writes on four shards, one shard's final invoke failing (its shard is behind)
    scenario.write(range(0, 40), base=0)
    drive(mapping, 10)
    environments.hold = {mapping.shards[3]}
    records = scenario.close()
    truth = _by_minute(records)
    last = max(truth)
    early = merger.after(last)
    # WHEN that shard's window closes after the merge published its minute, and the merge runs again
    environments.hold.clear()
    drive(mapping, 10)
    late = merger.after(last)
    # THEN the minute is published again with its full count (same timestamp: the graph's Maximum),
    # and the rolling figures hold every user
    assert sum(_at(early, c.ACTIVE_USERS.name, m)[None] for m in truth) < 40
    for minute, users in truth.items():
        assert _at(late, c.ACTIVE_USERS.name, minute) == users, minute
    assert _at(late, c.DAILY_ACTIVE_USERS.name, last) == _truth(records)


def test_the_rolling_hour_drops_minutes_older_than_an_hour_and_the_day_keeps_them(usage_store, scenario):
    # The rolling periods need minutes an hour apart, which real time cannot give a test: one
    # shard's windows are invoked by hand, with records read from moto's stream.
    run = Run(SETTINGS, store=usage_store)
    merger = scenario.merger

    def window(minute: str, users: range) -> Truth:
        scenario.write(users, base=users.start)
        records = scenario.model.read_event()["Records"]
        state = run(windowed({"Records": records}, f"{minute}:00Z"))["state"]
        run(windowed({"Records": []}, f"{minute}:00Z", state, final=True))
        return _truth(records)

    # GIVEN 20 users at 10:08, merged, and 10 at 11:30 of whom 4 were seen at 10:08
    first = window("2026-12-01T10:08", range(0, 20))
    merger.after("2026-12-01T10:08")
    second = window("2026-12-01T11:30", range(16, 26))
    # WHEN the merge runs after 11:30
    figures = merger.after("2026-12-01T11:30")
    # THEN the rolling hour holds 11:30 alone (10:08 is 82 minutes back), the day and month both
    assert _at(figures, c.ACTIVE_USERS.name, "2026-12-01T11:30") == second
    assert _at(figures, c.HOURLY_ACTIVE_USERS.name, "2026-12-01T11:30") == second
    assert first[None] == 20 and second[None] == 10
    for spec in (c.DAILY_ACTIVE_USERS, c.MONTHLY_ACTIVE_USERS):
        assert _at(figures, spec.name, "2026-12-01T11:30")[None] == 26, spec.name
    # AND the quiet minutes before 11:30 are published as 0 (the last ten, at most)
    assert _at(figures, c.ACTIVE_USERS.name, "2026-12-01T11:29") == dict.fromkeys(
        (None, *SEGMENTS, "other"), 0
    )
    assert _at(figures, c.ACTIVE_USERS.name, "2026-12-01T11:20") == {}


def test_stored_summaries_hold_digests_never_user_ids(regions, usage_store, scenario):
    # GIVEN a window on four shards with users whose ids are long enough to be recognised anywhere
    environments, merger = scenario.environments, scenario.merger
    scenario.write(range(0, 30), base=0)
    drive(scenario.mapping, 10)
    merger.after(max(_by_minute(scenario.close())))
    # WHEN the whole usage table and the consumer's and merge's output are read
    items = regions.source.scan(TableName=usage_store.table_name)["Items"]
    stored = json.dumps(items, default=lambda raw: raw.hex() + raw.decode("latin-1"))
    text = environments.text() + merger.out.getvalue()
    # THEN no user id appears anywhere
    assert items and len(environments.runs) == 4
    for user in range(30):
        assert f"user-{user:04d}" not in stored and f"user-{user:04d}" not in text


@pytest.mark.parametrize("through", ["10:07", "not a minute"], ids=["short", "garbage"])
def test_a_merge_request_for_an_unreadable_minute_is_refused(regions, usage_store, through):
    merger = Merger(usage_store, regions.config.table_name)
    with pytest.raises(ValueError, match="'through' must be a UTC minute"):
        merger.merge.handle({"through": through}, None)
