"""The metrics handler end to end: moto's stream in, EMF documents out, checked against the spec
and against ground truth computed independently (tests/support/usage.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from metrics import handler as entry
from telemetry import catalogue as c
from tests.support.consumer import (
    Run,
    assert_active_users,
    assert_rate_metrics,
    minute,
    workload,
)
from tests.support.emf import parse_output, totals
from tests.support.events import malformed_records
from tests.support.usage import Expected, UsageModel, windowed


def test_one_batch_matches_ground_truth(regions):
    # GIVEN inserts, modifies, user deletes and TTL deletes read from moto's stream, plus malformed records
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    workload(model, 0, 40)
    event = model.read_event()
    created = [r["dynamodb"]["ApproximateCreationDateTime"] for r in event["Records"]]
    event["Records"] += malformed_records(regions.stream_arn, 10**23, 3)
    run = Run()

    # WHEN one invocation without a tumbling window handles it
    response = run(event)

    # THEN nothing fails, no state is returned, and every series equals the ground truth
    assert response == {"batchItemFailures": []}
    series = run.series()
    table = regions.config.table_name
    assert_rate_metrics(series, model.expected, table, malformed=3)
    assert_active_users(series, model.expected, table)
    t = (c.TABLE, table)
    assert sorted(series[(c.ITEM_SIZE.name, (t,))]) == sorted(model.expected.item_sizes)
    assert sorted(series[(c.CHANGE_LAG.name, (t,))]) == sorted(round((run.now - s) * 1000) for s in created)


def test_active_users_carried_across_a_window_and_emitted_once_on_the_final_invoke(regions):
    # GIVEN three batches delivered in one tumbling window, then an empty final invoke
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    start = minute(run.now)
    state: dict[str, Any] = {}
    for first in (0, 30, 60):
        workload(model, first, 30)
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
    assert_active_users(run.series(3), model.expected, table)
    # AND the rate metrics of the three invocations add up to the ground truth
    assert_rate_metrics(run.series(), model.expected, table, malformed=0)

    # AND the next window starts from nothing
    model.expected = Expected()
    workload(model, 500, 10)
    state = run(windowed(model.read_event(), start, {}))["state"]
    run(windowed({"Records": []}, start, state, final=True))
    assert_active_users(run.series(5), model.expected, table)


def test_records_delivered_twice_in_a_window_are_counted_once(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    start = minute(run.now)
    workload(model, 0, 20)
    first = model.read_event()
    workload(model, 20, 20)
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
    assert_rate_metrics(run.series(), model.expected, table, malformed=2)
    assert_active_users(run.series(), model.expected, table)
    assert sum(run.series(2)[(c.ITEM_CHANGES.name, ((c.TABLE, table),))]) == 0


def test_a_redelivery_in_a_new_window_is_counted_again(regions):
    # Documented at-least-once behaviour: nothing is remembered across windows.
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    workload(model, 0, 10)
    event = model.read_event()
    run(windowed(event, minute(run.now), final=True))
    run(windowed(event, minute(run.now + 60), final=True))

    t = (c.TABLE, regions.config.table_name)
    changes = run.series()[(c.ITEM_CHANGES.name, (t,))]
    assert changes == [model.expected.item_changes, model.expected.item_changes]


def test_a_window_terminated_early_publishes_what_it_has(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    workload(model, 0, 10)

    response = run(windowed(model.read_event(), minute(run.now), early=True))

    assert response["state"] == {}
    assert_active_users(run.series(), model.expected, regions.config.table_name)


def test_unreadable_state_starts_the_window_afresh_without_failing(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    run = Run()
    workload(model, 0, 5)

    response = run(windowed(model.read_event(), minute(run.now), {"v": "999"}, final=True))

    assert response["batchItemFailures"] == []
    (problem,) = [json.loads(line) for line in run.lines if '"level": "ERROR"' in line]
    assert "window state" in problem["message"]
    assert_active_users(run.series(), model.expected, regions.config.table_name)


def test_a_batch_of_only_malformed_records_is_counted_not_failed(regions):
    run = Run()

    response = run({"Records": malformed_records(regions.stream_arn, 10**23, 5)})

    assert response == {"batchItemFailures": []}
    series = run.series()
    assert series[(c.MALFORMED_RECORDS.name, ((c.TABLE, regions.config.table_name),))] == [5]
    assert series[(c.ACTIVE_USERS.name, ((c.TABLE, regions.config.table_name),))] == [0]


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
        state = run(windowed(event, minute(run.now)))["state"]
        run(windowed({"Records": []}, minute(run.now), state, final=True))

    output = "\n".join(run.lines) + caplog.text + capsys.readouterr().out + json.dumps(state)
    assert "PII" not in output
    assert sum(run.series()[(c.ITEM_CHANGES.name, ((c.TABLE, regions.config.table_name),))]) == 7


def test_the_lambda_entry_point_reads_its_environment_and_writes_emf_to_stdout(regions, monkeypatch, capsys):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    workload(model, 0, 8)
    for name, value in {
        "METRICS_NAMESPACE": "Test/Usage",
        "TRACKED_ATTRIBUTES": "plan,country",
        "SEGMENT_ATTRIBUTE": "platform",
        "SEGMENT_VALUES": "ios,android,web",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(entry, "_handler", None)
    response = entry.handler(model.read_event(), None)

    assert response == {"batchItemFailures": []}
    documents = parse_output(capsys.readouterr().out)
    assert {s.namespace for d in documents for s in d.series} == {"Test/Usage"}
    assert_rate_metrics(totals(documents), model.expected, regions.config.table_name, malformed=0)
