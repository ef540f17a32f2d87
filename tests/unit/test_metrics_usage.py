"""The usage table's pure parts: time slots and rolling periods, merge rules, item layout."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.errors import UsageDataError
from metrics.merge import MAX_QUIET_MINUTES, quiet_minutes
from metrics.periods import DAILY, DAY, HOUR, HOURLY, MINUTE, MONTHLY, Slot, due_minute
from metrics.rollup import estimates, same, stickiness, total, union_segments
from metrics.sketch import EXACT_LIMIT, DistinctCounter, hash64
from metrics.usage_items import (
    ITEM_BUDGET,
    WindowSummary,
    decode_changes,
    decode_users,
    fit,
    summary_item,
    summary_key,
)

AT_1007 = dt.datetime(2026, 12, 1, 10, 7, 42, tzinfo=dt.UTC)


def _counter(prefix: str, count: int, start: int = 0) -> DistinctCounter:
    counter = DistinctCounter()
    counter.update(hash64({"S": f"{prefix}{i}"}) for i in range(start, start + count))
    return counter


def test_slots_name_their_minute_hour_and_day_and_expire_after_their_retention():
    minute = Slot.of(MINUTE, AT_1007)

    assert minute.text() == "2026-12-01T10:07"
    assert minute.within(HOUR).text() == "2026-12-01T10"
    assert minute.within(DAY).text() == "2026-12-01"
    assert Slot.parse(MINUTE, "2026-12-01T10:07") == minute
    assert minute.expires_at() == int(dt.datetime(2026, 12, 3, 10, 8, tzinfo=dt.UTC).timestamp())
    assert minute.within(DAY).expires_at() == int(dt.datetime(2027, 1, 6, tzinfo=dt.UTC).timestamp())


def test_rolling_periods_end_with_the_minute_they_are_published_for():
    minute = Slot.of(MINUTE, AT_1007)

    hourly, daily, monthly = (rolling.slots(minute) for rolling in (HOURLY, DAILY, MONTHLY))

    assert (hourly[0].text(), hourly[-1].text(), len(hourly)) == ("2026-12-01T09:08", "2026-12-01T10:07", 60)
    assert (daily[0].text(), daily[-1].text(), len(daily)) == ("2026-11-30T11", "2026-12-01T10", 24)
    assert (monthly[0].text(), monthly[-1].text(), len(monthly)) == ("2026-11-02", "2026-12-01", 30)


@pytest.mark.parametrize(
    ("now", "grace", "due"),
    [
        pytest.param("10:08:29", 30, "10:06", id="inside-the-grace"),
        pytest.param("10:08:30", 30, "10:07", id="grace-over"),
        pytest.param("10:08:00", 0, "10:07", id="no-grace"),
    ],
)
def test_a_minute_is_due_once_its_grace_has_passed(now, grace, due):
    moment = dt.datetime.fromisoformat(f"2026-12-01T{now}+00:00").timestamp()
    assert due_minute(moment, grace).text() == f"2026-12-01T{due}"


def test_union_is_idempotent_so_a_summary_merged_twice_counts_once():
    ios, web = _counter("u", 10), _counter("u", 6, start=8)
    once = union_segments([{"ios": ios}, {"web": web}])
    twice = union_segments([{"ios": ios}, {"web": web}, {"ios": ios}, once])

    assert same(once, twice)
    assert estimates(twice, ("ios", "android", "web")) == {None: 14, "ios": 10, "android": 0, "web": 6}
    assert ios.estimate() == 10  # the inputs are not changed


def test_a_split_parent_and_child_of_one_minute_union_to_the_minutes_users():
    # GIVEN a shard's users of a minute, seen partly by the parent before a split, partly by a child
    parent, child = _counter("u", 30), _counter("u", 30, start=20)  # users 20..29 on both sides
    # THEN the minute counts each once
    assert total(union_segments([{"ios": parent}, {"ios": child}])).estimate() == 50


def test_stickiness_is_dau_over_mau_in_percent_capped_at_100():
    ratio = stickiness({None: 30, "ios": 11, "web": 0}, {None: 120, "ios": 10, "web": 0})
    assert ratio == {None: 25.0, "ios": 100.0}  # no ratio where nobody was active in the month


@pytest.mark.parametrize("count", [0, 17, EXACT_LIMIT + 500], ids=["empty", "exact", "sketch"])
def test_counter_bytes_round_trip_keeps_the_count(count):
    counter = _counter("u", count)
    again = DistinctCounter.from_bytes(counter.to_bytes())
    assert (again.is_exact, again.estimate()) == (counter.is_exact, counter.estimate())


@pytest.mark.parametrize("raw", [b"", b"e\x00\x01", b"h\x00\x00\x00", b"zabcdefgh"], ids=repr)
def test_corrupted_counter_bytes_are_a_clear_error(raw):
    with pytest.raises(UsageDataError, match="counter in the usage table"):
        DistinctCounter.from_bytes(raw)


def test_a_summary_item_is_keyed_by_its_window_alone_and_holds_digests_and_counts():
    summary = WindowSummary(
        "Users", AT_1007.replace(second=0), "shardId-1", 42, {"ios": _counter("u", 3)}, {"ios": 5}
    )

    item = summary_item(summary)

    assert summary_key(summary) == {
        "pk": {"S": "Users#minute#2026-12-01T10:07"},
        "sk": {"S": "window#2026-12-01T10:07:00Z#shardId-1#42"},
    }
    assert decode_users(item)["ios"].estimate() == 3
    assert decode_changes(item) == {"ios": 5}
    assert int(item["expires_at"]["N"]) == summary.minute.expires_at()


def test_an_item_that_would_pass_dynamodbs_limit_has_its_largest_counters_sketched():
    # GIVEN 17 segments (16 configured and "other") of 4,096 exact users: 557 KB of digests
    segments = {f"s{n}": _counter(f"s{n}-", EXACT_LIMIT) for n in range(17)}
    # WHEN it is fitted for one item
    fit(segments)
    # THEN it is within the budget, and only as many counters as needed were sketched
    assert sum(len(c.to_bytes()) for c in segments.values()) <= ITEM_BUDGET
    assert 0 < sum(not c.is_exact for c in segments.values()) < 17


@pytest.mark.parametrize(
    ("published", "merged", "quiet"),
    [
        pytest.param(None, (), ["10:07"], id="first-run-vouches-for-its-minute-only"),
        pytest.param("10:04", ("10:06",), ["10:05", "10:07"], id="since-the-last-run-but-merged"),
        pytest.param("10:07", (), [], id="nothing-new"),
        pytest.param("08:00", (), ["09:58", "09:59", *(f"10:{m:02d}" for m in range(8))], id="capped"),
    ],
)
def test_minutes_closed_without_summaries_are_the_quiet_ones(published, merged, quiet):
    def minute(text: str) -> Slot:
        return Slot.parse(MINUTE, f"2026-12-01T{text}")

    due = minute("10:07")
    found = quiet_minutes(due, minute(published) if published else None, {minute(m): {} for m in merged})
    assert [slot.text()[-5:] for slot in found] == quiet
    assert len(found) <= MAX_QUIET_MINUTES == 10
