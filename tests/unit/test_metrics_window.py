"""Distinct counting and the tumbling-window state: accuracy, size bound, dedupe, round trips."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from datasketches import hll_sketch

from metrics.aggregate import TableAggregate
from metrics.errors import WindowStateError
from metrics.sketch import EXACT_LIMIT, LG_K, DistinctCounter, hash64, union
from metrics.window import STATE_BUDGET_BYTES, WindowState, read_window

LAMBDA_STATE_LIMIT = 1024 * 1024
UNION_RSE = abs(hll_sketch.get_rel_err(True, True, LG_K, 1))  # relative standard error after a union


def _digests(prefix: str, count: int) -> set[int]:
    return {hash64({"S": f"{prefix}{i}"}) for i in range(count)}


def _exact(counter: DistinctCounter) -> bool:
    return counter.is_exact  # a call, so that mypy does not carry the narrowing across updates


def test_counter_is_exact_up_to_the_bound_then_sketches():
    counter = DistinctCounter()
    counter.update(_digests("u", EXACT_LIMIT))
    counter.update(_digests("u", 10))  # the same users again

    assert _exact(counter)
    assert counter.estimate() == EXACT_LIMIT

    counter.update(_digests("v", 1))

    assert not _exact(counter)
    low, high = counter.bounds(3)
    assert low <= EXACT_LIMIT + 1 <= high


@pytest.mark.parametrize("count", [0, 17, EXACT_LIMIT + 500], ids=["empty", "exact", "sketch"])
def test_counter_text_round_trip_keeps_the_count(count):
    counter = DistinctCounter()
    counter.update(_digests("u", count))

    again = DistinctCounter.from_text(counter.to_text())

    assert again.is_exact == counter.is_exact
    assert again.estimate() == counter.estimate()


@pytest.mark.parametrize("text", ["e:!!!", "e:AAA=", "h:AAAA", "z:AAAA", ""], ids=str)
def test_corrupted_counter_text_is_a_clear_error(text):
    with pytest.raises(WindowStateError, match="counter"):
        DistinctCounter.from_text(text)


def test_union_counts_users_in_several_segments_once():
    ios, web = DistinctCounter(), DistinctCounter()
    ios.update(_digests("u", 30))
    web.update(_digests("u", 50))  # u0..u29 are in both segments

    assert union([ios, web]).estimate() == 50


def test_100k_distinct_users_within_the_sketch_bound_and_state_under_1mb():
    # GIVEN 100,000 distinct users arriving in 10 invocations of one window, over 4 segments,
    # each user seen twice; the state goes through Lambda's JSON between invocations
    state_json = json.dumps({})
    largest_state = 0
    for invocation in range(10):
        state = WindowState.from_lambda(json.loads(state_json))
        users: dict[str, set[int]] = {}
        for i in range(invocation * 10_000, (invocation + 1) * 10_000):
            digest = hash64({"S": f"user-{i}"})
            users.setdefault(f"s{i % 4}", set()).add(digest)
            users.setdefault(f"s{(i + 1) % 4}", set()).add(digest)
        state.add_users({"Users": TableAggregate(users=users)})
        state_json = json.dumps(state.to_lambda())
        largest_state = max(largest_state, len(state_json.encode()))

    # WHEN the window closes
    final = WindowState.from_lambda(json.loads(state_json))
    total = union(final.users["Users"].values())

    # THEN the estimate is within 3 standard errors (and the sketch's own 3-sigma bounds hold)
    error = abs(total.estimate() - 100_000) / 100_000
    assert error < 3 * UNION_RSE
    low, high = total.bounds(3)
    assert low <= 100_000 <= high
    for segment in final.users["Users"].values():
        assert abs(segment.estimate() - 50_000) / 50_000 < 3 * UNION_RSE
    # AND the state never came near Lambda's 1 MB per shard
    assert largest_state < STATE_BUDGET_BYTES < LAMBDA_STATE_LIMIT


def test_state_over_budget_sketches_its_largest_counters_first():
    state = WindowState()
    users = {f"s{n}": _digests(f"{n}-", EXACT_LIMIT) for n in range(17)}
    users["small"] = _digests("small-", 10)
    state.add_users({"Users": TableAggregate(users=users)})
    budget = 450_000

    encoded = state.to_lambda(budget)

    assert len(json.dumps(encoded)) <= budget
    again = WindowState.from_lambda(encoded)
    assert again.users["Users"]["small"].is_exact  # the small counter kept its exact count
    assert not all(c.is_exact for c in again.users["Users"].values())
    for name, counter in again.users["Users"].items():
        expected = len(users[name])
        assert abs(counter.estimate() - expected) <= 3 * UNION_RSE * expected


@pytest.mark.parametrize(
    "raw",
    [{"v": "0"}, {"v": "1", "users": "not json"}, {"v": "1", "users": '{"T": {"s": "q:"}}'}, "text"],
    ids=["old-version", "bad-json", "bad-counter", "not-an-object"],
)
def test_unreadable_state_is_a_clear_error(raw):
    with pytest.raises(WindowStateError, match="state"):
        WindowState.from_lambda(raw)


def test_read_window_parses_lambda_fields():
    window = read_window(
        {
            "window": {"start": "2026-11-29T04:00:00Z", "end": "2026-11-29T04:01:00Z"},
            "isFinalInvokeForWindow": True,
        }
    )

    assert window is not None
    assert window.start == dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC)
    assert window.closes
    assert read_window({"Records": []}) is None
    unreadable = read_window({"window": {"start": "yesterday"}, "isWindowTerminatedEarly": True})
    assert unreadable is not None
    assert unreadable.start is None
    assert unreadable.closes
