"""The metrics handler end to end: moto's stream in, EMF documents out, checked against the spec
and against ground truth computed independently (tests/support/usage.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

import pytest

from metrics import handler as entry
from metrics.emit import MAX_VALUES, MemorySink
from metrics.errors import SettingsError
from metrics.handler import Consumer
from metrics.settings import Settings
from telemetry import catalogue as c
from tests.support.emf import EmfDocument, parse_output, totals
from tests.support.usage import SETTINGS, Expected, UsageModel, malformed_records, windowed

PLATFORMS = ("ios", "android", "web", "tv", None)


def _minute(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:00Z")


class Run:
    """A consumer with a fixed clock and captured output; every document is validated on the way."""

    def __init__(self, settings: Settings = SETTINGS) -> None:
        self.now = time.time() + 1.5
        self.sink = MemorySink()
        self.consumer = Consumer(settings, self.sink, clock=lambda: self.now)
        self.documents: list[list[EmfDocument]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        before = len(self.sink.lines)
        # Lambda passes the state through JSON between invocations: so do we.
        response: dict[str, Any] = json.loads(json.dumps(self.consumer(json.loads(json.dumps(event)))))
        self.documents.append(parse_output(self.sink.lines[before:]))
        return response

    def series(self, invocation: int | None = None) -> dict[Any, list[float]]:
        chosen = self.documents if invocation is None else [self.documents[invocation]]
        return totals(doc for docs in chosen for doc in docs)


def _workload(model: UsageModel, first: int, count: int) -> None:
    for i in range(first, first + count):
        row: dict[str, str | int] = {
            "user_id": f"u{i % 13}",
            "timestamp": i,
            "plan": "free",
            "payload": "x" * i,
        }
        if PLATFORMS[i % 5] is not None:
            row["platform"] = str(PLATFORMS[i % 5])
        model.put(row)
    for i in range(first, first + count, 4):
        model.put(
            {"user_id": f"u{i % 13}", "timestamp": i, "plan": "pro", "country": "FR", "platform": "web"}
        )
    for i in range(first + 1, first + count, 6):
        model.delete(f"u{i % 13}", i, ttl=i % 12 == 1)


def _assert_rate_metrics(
    series: dict[Any, list[float]], expected: Expected, table: str, malformed: int
) -> None:
    t = (c.TABLE, table)
    assert sum(series[(c.ITEM_CHANGES.name, (t,))]) == expected.item_changes
    for event_name, count in expected.by_event.items():
        assert sum(series[(c.ITEM_CHANGES.name, ((c.EVENT_NAME, event_name), t))]) == count
    for segment, count in expected.by_segment.items():
        assert sum(series[(c.ITEM_CHANGES.name, ((c.SEGMENT, segment), t))]) == count
    assert sum(series[(c.TTL_DELETES.name, (t,))]) == expected.ttl_deletes
    assert sum(series[(c.MALFORMED_RECORDS.name, (t,))]) == malformed
    for (attribute, change), count in expected.attribute_changes.items():
        key = (c.ATTRIBUTE_CHANGES.name, ((c.ATTRIBUTE, attribute), (c.CHANGE_TYPE, change), t))
        assert sum(series[key]) == count
    published = {k for k in series if k[0] == c.ATTRIBUTE_CHANGES.name}
    assert len(published) == len(expected.attribute_changes)


def _assert_active_users(series: dict[Any, list[float]], expected: Expected, table: str) -> None:
    t = (c.TABLE, table)
    assert series[(c.ACTIVE_USERS.name, (t,))] == [expected.active_users]
    for segment, users in expected.users_by_segment.items():
        assert series[(c.ACTIVE_USERS.name, ((c.SEGMENT, segment), t))] == [len(users)]


def test_one_batch_matches_ground_truth(regions):
    # GIVEN inserts, modifies, user deletes and TTL deletes read from moto's stream, plus malformed records
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    _workload(model, 0, 40)
    event = model.read_event()
    event["Records"] += malformed_records(regions.stream_arn, 10**23, 3)
    run = Run()

    # WHEN one invocation without a tumbling window handles it
    response = run(event)

    # THEN nothing fails, no state is returned, and every series equals the ground truth
    assert response == {"batchItemFailures": []}
    series = run.series()
    table = regions.config.table_name
    _assert_rate_metrics(series, model.expected, table, malformed=3)
    _assert_active_users(series, model.expected, table)
    t = (c.TABLE, table)
    assert sorted(series[(c.ITEM_SIZE.name, (t,))]) == sorted(model.expected.item_sizes)
    created = [
        r["dynamodb"]["ApproximateCreationDateTime"] for r in event["Records"] if "SizeBytes" in r["dynamodb"]
    ]
    assert sorted(series[(c.CHANGE_LAG.name, (t,))]) == sorted(round((run.now - s) * 1000) for s in created)


def test_active_users_carried_across_a_window_and_emitted_once_on_the_final_invoke(regions):
    # GIVEN three batches delivered in one tumbling window, then an empty final invoke
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    start = _minute(run.now)
    state: dict[str, Any] = {}
    for first in (0, 30, 60):
        _workload(model, first, 30)
        response = run(windowed(model.read_event(), start, state))
        state = response["state"]
        assert state  # the window goes on: its state comes back
    final = run(windowed({"Records": []}, start, state, final=True))

    # THEN ActiveUsers appear once, on the final invoke, stamped with the window start
    assert final == {"batchItemFailures": [], "state": {}}
    for invocation in range(3):
        assert not any(k[0] == c.ACTIVE_USERS.name for k in run.series(invocation))
    active = [s for doc in run.documents[3] for s in doc.series if s.metric == c.ACTIVE_USERS.name]
    assert {s.timestamp_ms for s in active} == {int(dt.datetime.fromisoformat(start).timestamp() * 1000)}
    table = regions.config.table_name
    _assert_active_users(run.series(3), model.expected, table)
    # AND the rate metrics of the three invocations add up to the ground truth
    _assert_rate_metrics(run.series(), model.expected, table, malformed=0)

    # AND the next window starts from nothing
    model.expected = Expected()
    _workload(model, 500, 10)
    state = run(windowed(model.read_event(), start, {}))["state"]
    run(windowed({"Records": []}, start, state, final=True))
    _assert_active_users(run.series(5), model.expected, table)


def test_records_delivered_twice_in_a_window_are_counted_once(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    start = _minute(run.now)
    _workload(model, 0, 20)
    first = model.read_event()
    _workload(model, 20, 20)
    second = model.read_event()
    bad = malformed_records(regions.stream_arn, 10**23, 2)
    both = {"Records": first["Records"] + second["Records"] + bad}

    # WHEN the first batch comes, then again together with the second, then everything once more
    state = run(windowed(first, start))["state"]
    state = run(windowed(both, start, state))["state"]
    state = run(windowed(both, start, state))["state"]
    run(windowed({"Records": []}, start, state, final=True))

    # THEN every record was counted exactly once
    table = regions.config.table_name
    _assert_rate_metrics(run.series(), model.expected, table, malformed=2)
    _assert_active_users(run.series(), model.expected, table)
    assert sum(run.series(2)[(c.ITEM_CHANGES.name, ((c.TABLE, table),))]) == 0


def test_a_redelivery_in_a_new_window_is_counted_again(regions):
    # Documented at-least-once behaviour: nothing is remembered across windows.
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    _workload(model, 0, 10)
    event = model.read_event()
    run(windowed(event, _minute(run.now), final=True))
    run(windowed(event, _minute(run.now + 60), final=True))

    t = (c.TABLE, regions.config.table_name)
    changes = run.series()[(c.ITEM_CHANGES.name, (t,))]
    assert changes == [model.expected.item_changes, model.expected.item_changes]


def test_a_window_terminated_early_publishes_what_it_has(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    _workload(model, 0, 10)

    response = run(windowed(model.read_event(), _minute(run.now), early=True))

    assert response["state"] == {}
    _assert_active_users(run.series(), model.expected, regions.config.table_name)


def test_unreadable_state_starts_the_window_afresh_without_failing(regions, caplog):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    _workload(model, 0, 5)

    with caplog.at_level(logging.ERROR, logger="metrics"):
        response = run(windowed(model.read_event(), _minute(run.now), {"v": "999"}, final=True))

    assert response["batchItemFailures"] == []
    assert "window state" in caplog.text
    _assert_active_users(run.series(), model.expected, regions.config.table_name)


def test_a_batch_of_only_malformed_records_is_counted_not_failed(regions):
    run = Run()

    response = run({"Records": malformed_records(regions.stream_arn, 10**23, 5)})

    assert response == {"batchItemFailures": []}
    series = run.series()
    assert series[(c.MALFORMED_RECORDS.name, ((c.TABLE, regions.config.table_name),))] == [5]
    assert series[(c.ACTIVE_USERS.name, ((c.TABLE, regions.config.table_name),))] == [0]


def test_a_10000_record_batch_makes_as_many_documents_as_a_small_one(regions):
    # GIVEN 10,000 inserts by 5,000 users (enough to switch ActiveUsers to the HLL sketch)
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    model.insert_many(
        [
            {"user_id": f"u{i % 5000}", "timestamp": i, "plan": "free", "platform": str(PLATFORMS[i % 4])}
            for i in range(10_000)
        ]
    )
    big = model.read_event()
    assert len(big["Records"]) == 10_000
    run = Run()

    # WHEN it is handled in one invocation, and then its first 100 records alone
    run(big)
    run({"Records": big["Records"][:100]})

    # THEN both produce the same, configuration-bounded number of documents within the EMF limits
    bound = 1 + 3 + len(SETTINGS.segments) + 3 * len(SETTINGS.tracked_attributes) + 1 + len(SETTINGS.segments)
    assert len(run.documents[0]) == len(run.documents[1]) <= bound
    for doc in run.documents[0]:
        assert all(len(s.values) <= MAX_VALUES for s in doc.series)
    series = run.series(0)
    t = (c.TABLE, regions.config.table_name)
    assert series[(c.ITEM_CHANGES.name, (t,))] == [10_000]
    sizes = series[(c.ITEM_SIZE.name, (t,))]
    assert (min(sizes), max(sizes)) == (min(model.expected.item_sizes), max(model.expected.item_sizes))
    (estimate,) = series[(c.ACTIVE_USERS.name, (t,))]
    assert abs(estimate - 5000) / 5000 < 0.025  # 3 standard errors of the lg_k=14 sketch


def test_nothing_of_an_item_reaches_output_or_logs(regions, caplog, capsys):
    # GIVEN items whose every value is a recognisable marker (user ids included)
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    for i in range(6):
        model.put(
            {"user_id": f"PII-user-{i}", "timestamp": i, "plan": f"PII-plan-{i}", "platform": "PII-platform"}
        )
    model.delete("PII-user-1", 1)
    event = model.read_event()
    event["Records"] += malformed_records(regions.stream_arn, 10**23, 4)
    run = Run()

    with caplog.at_level(logging.DEBUG):
        state = run(windowed(event, _minute(run.now)))["state"]
        run(windowed({"Records": []}, _minute(run.now), state, final=True))

    output = "\n".join(run.sink.lines) + caplog.text + capsys.readouterr().out + json.dumps(state)
    assert "PII" not in output
    assert sum(run.series()[(c.ITEM_CHANGES.name, ((c.TABLE, regions.config.table_name),))]) == 7


def test_the_lambda_entry_point_reads_its_environment_and_writes_emf_to_stdout(regions, monkeypatch, capsys):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    _workload(model, 0, 8)
    for name, value in {
        "METRICS_NAMESPACE": "Test/Usage",
        "TRACKED_ATTRIBUTES": "plan,country",
        "SEGMENT_ATTRIBUTE": "platform",
        "SEGMENT_VALUES": "ios,android,web",
    }.items():
        monkeypatch.setenv(name, value)
    entry._consumer.cache_clear()
    try:
        response = entry.handler(model.read_event(), None)
    finally:
        entry._consumer.cache_clear()

    assert response == {"batchItemFailures": []}
    documents = parse_output(capsys.readouterr().out)
    assert {s.namespace for d in documents for s in d.series} == {"Test/Usage"}
    _assert_rate_metrics(totals(documents), model.expected, regions.config.table_name, malformed=0)


def test_a_bad_environment_is_a_clear_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("SEGMENT_VALUES", "ios")
    monkeypatch.delenv("SEGMENT_ATTRIBUTE", raising=False)
    entry._consumer.cache_clear()
    try:
        with pytest.raises(SettingsError, match="SEGMENT_VALUES"):
            entry.handler({"Records": []}, None)
    finally:
        entry._consumer.cache_clear()
