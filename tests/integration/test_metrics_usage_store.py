"""The usage table adapter on moto: conditional unions, pending markers, failures that name the item."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from metrics.errors import UsageStoreError
from metrics.periods import HOUR, MINUTE, Slot
from metrics.sketch import DistinctCounter
from metrics.store import UsageStore
from metrics.usage_items import WindowSummary, merged_key
from tests.support.consumer import Run
from tests.support.usage import SETTINGS, UsageModel, windowed

HOUR_10 = Slot.of(HOUR, dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC))
MINUTE_1007 = Slot.of(MINUTE, dt.datetime(2026, 12, 1, 10, 7, tzinfo=dt.UTC))


def _users(*digests: int) -> dict[str, DistinctCounter]:
    counter = DistinctCounter()
    counter.update(digests)
    return {"ios": counter}


class _Interleaved:
    """A client that lets another writer in between the adapter's read and its write, once."""

    def __init__(self, client: Any, meanwhile: Any) -> None:
        self._client, self._meanwhile, self._done = client, meanwhile, False

    def get_item(self, **kwargs: Any) -> Any:
        response = self._client.get_item(**kwargs)
        if not self._done:
            self._done = True
            self._meanwhile()
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_two_merges_folding_at_once_keep_both_unions(regions, usage_store):
    # GIVEN a merge whose read of the hour is followed by another merge's write to it
    other = UsageStore(regions.source, usage_store.table_name)
    racing = UsageStore(
        _Interleaved(regions.source, lambda: other.fold("Users", HOUR_10, _users(1, 2))),  # type: ignore[arg-type]
        usage_store.table_name,
    )
    # WHEN the first merge folds its own users in
    held = racing.fold("Users", HOUR_10, _users(3))
    # THEN its conditional write lost, it read again, and the hour holds all three users
    assert held["ios"].estimate() == 3
    item = regions.source.get_item(TableName=usage_store.table_name, Key=merged_key("Users", HOUR_10))["Item"]
    assert item["version"]["N"] == "2"


def test_folding_what_is_already_there_writes_nothing(regions, usage_store):
    usage_store.fold("Users", HOUR_10, _users(1, 2))
    usage_store.fold("Users", HOUR_10, _users(2))
    item = regions.source.get_item(TableName=usage_store.table_name, Key=merged_key("Users", HOUR_10))["Item"]
    assert item["version"]["N"] == "1"


def test_a_minute_stays_pending_when_a_summary_comes_while_it_is_merged(usage_store):
    # GIVEN a minute pending, its marker read by the merge
    summary = WindowSummary("Users", MINUTE_1007.start, "shard-a", 1, _users(1), {"ios": 1})
    usage_store.put_summary(summary)
    ((minute, token),) = usage_store.pending("Users", MINUTE_1007, 10)
    # WHEN another shard's summary of the minute arrives before the merge clears the marker
    usage_store.put_summary(WindowSummary("Users", MINUTE_1007.start, "shard-b", 7, _users(2), {"ios": 1}))
    # THEN the marker is kept for the next run; once read again it can be cleared
    assert usage_store.clear_pending("Users", minute, token) is False
    ((_, newer),) = usage_store.pending("Users", MINUTE_1007, 10)
    assert usage_store.clear_pending("Users", minute, newer) is True
    assert usage_store.pending("Users", MINUTE_1007, 10) == []


def test_a_summary_that_cannot_be_stored_fails_the_final_invoke_before_any_output(regions):
    # GIVEN a consumer whose usage table does not exist
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    model.put({"user_id": "user-0001", "timestamp": 1, "platform": "ios"})
    run = Run(SETTINGS, store=UsageStore(regions.source, "Users-usage-missing"))
    start = "2026-12-01T10:07:00Z"
    state = run(windowed(model.read_event(), start))["state"]
    written = len(run.lines)
    # WHEN its window's final invoke comes
    with pytest.raises(UsageStoreError, match="Users-usage-missing: write of Users#minute#2026-12-01T10:07"):
        run(windowed({"Records": []}, start, state, final=True))
    # THEN it failed (Lambda retries it with the same state) and wrote nothing: no metric twice
    assert len(run.lines) == written
