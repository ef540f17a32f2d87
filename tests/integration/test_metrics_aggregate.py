"""Pure aggregation of records read from moto's stream, compared with an independent model."""

from __future__ import annotations

from dataclasses import replace

from ddbstream import EventName, parse_event
from metrics.aggregate import aggregate, attribute_change
from metrics.settings import Settings
from metrics.sketch import hash64
from telemetry.catalogue import ChangeType
from tests.support.events import malformed_records
from tests.support.usage import SETTINGS, UsageModel


def _workload(model: UsageModel) -> None:
    platforms = ["ios", "android", "web", "tv", None]
    for i in range(15):
        row: dict[str, str | int] = {"user_id": f"u{i % 6}", "timestamp": i, "plan": "free"}
        if platforms[i % 5] is not None:
            row["platform"] = str(platforms[i % 5])
        model.put(row)
    model.put({"user_id": "u0", "timestamp": 0, "plan": "pro", "platform": "ios"})  # plan changed
    model.put(
        {"user_id": "u1", "timestamp": 1, "plan": "free", "platform": "android", "country": "FR"}
    )  # added
    model.put({"user_id": "u2", "timestamp": 2, "platform": "web"})  # plan removed
    model.put({"user_id": "u3", "timestamp": 3, "plan": "free", "platform": "tv"})  # identical: no change
    model.delete("u4", 4)
    model.delete("u5", 5, ttl=True)
    model.delete("u0", 6, ttl=True)


def test_counts_match_the_model(regions):
    # GIVEN inserts, modifies (changed, added, removed, identical), user deletes and TTL deletes
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    _workload(model)
    event = model.read_event()
    batch = parse_event(event)
    now = max(r.created_at or 0 for r in batch.records) + 2.5

    # WHEN the batch is aggregated
    tables = aggregate(batch.records, batch.rejected, SETTINGS, now=now, default_table="fallback")

    # THEN every count equals the model's
    expected = model.expected
    agg = tables[regions.config.table_name]
    assert set(tables) == {regions.config.table_name}
    assert agg.item_changes == expected.item_changes == len(batch.records) - expected.ttl_deletes
    assert {e.value: n for e, n in agg.by_event.items()} == dict(expected.by_event)
    assert dict(agg.by_segment) == dict(expected.by_segment)
    assert agg.ttl_deletes == expected.ttl_deletes == 2
    assert {(a, t.value): n for (a, t), n in agg.attribute_changes.items()} == dict(
        expected.attribute_changes
    )
    assert sorted(agg.item_sizes) == sorted(expected.item_sizes)
    assert agg.users == {
        segment: {hash64({"S": user}) for user in users}
        for segment, users in expected.users_by_segment.items()
    }
    created = [r["dynamodb"]["ApproximateCreationDateTime"] for r in event["Records"]]
    assert sorted(agg.lags_ms) == sorted(round((now - t) * 1000) for t in created)
    assert agg.malformed == 0


def test_malformed_records_are_counted_for_the_batch_table(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    model.put({"user_id": "a", "timestamp": 1})
    event = model.read_event()
    event["Records"] += malformed_records(regions.stream_arn, 10**21, 4)
    batch = parse_event(event)

    tables = aggregate(batch.records, batch.rejected, SETTINGS, now=0.0, default_table="Users")

    assert tables["Users"].malformed == 4
    assert tables["Users"].item_changes == 1
    assert tables["Users"].lags_ms == [0]  # a clock behind the record never gives a negative lag


def test_without_segments_everything_is_other_and_users_are_still_counted(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    for i in range(5):
        model.put({"user_id": f"u{i % 2}", "timestamp": i, "platform": "ios"})
    batch = parse_event(model.read_event())

    tables = aggregate(batch.records, batch.rejected, Settings(), now=0.0, default_table="x")

    agg = tables[regions.config.table_name]
    assert dict(agg.by_segment) == {"other": 5}
    assert agg.users == {"other": {hash64({"S": "u0"}), hash64({"S": "u1"})}}
    assert not agg.attribute_changes


def test_a_modify_without_old_image_reports_no_attribute_change(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    model.put({"user_id": "a", "timestamp": 1, "plan": "free"})
    model.put({"user_id": "a", "timestamp": 1, "plan": "pro"})
    records = parse_event(model.read_event()).records
    modify = next(r for r in records if r.event_name is EventName.MODIFY)
    assert attribute_change(modify, "plan") is ChangeType.CHANGED

    # A NEW_IMAGE-only stream cannot tell what changed: nothing is claimed.
    assert attribute_change(replace(modify, old_image=None), "plan") is None
