"""The tumbling-window state's redelivery filter over records read from moto's stream."""

from __future__ import annotations

from ddbstream import parse_event
from metrics.window import WindowState
from tests.support.events import malformed_records
from tests.support.usage import UsageModel


def test_take_fresh_skips_everything_at_or_below_the_high_water_mark(regions):
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    for i in range(6):
        model.put({"user_id": f"u{i}", "timestamp": i})
    event = model.read_event()
    event["Records"] += malformed_records(regions.stream_arn, 10**22, 2)
    first = parse_event({"Records": event["Records"][:3]})
    everything = parse_event(event)
    state = WindowState()

    fresh, duplicates = state.take_fresh(first)
    assert (len(fresh.records), duplicates) == (3, 0)
    assert state.high_water == first.records[-1].sequence

    # the first three again, plus the rest: only the rest is new
    fresh, duplicates = state.take_fresh(everything)
    assert [r.sequence_number for r in fresh.records] == [r.sequence_number for r in everything.records[3:]]
    assert len(fresh.rejected) == 2
    assert duplicates == 3
    assert state.high_water == 10**22 + 1

    # a full redelivery is all duplicates, the malformed ones included
    fresh, duplicates = state.take_fresh(everything)
    assert (len(fresh.records), len(fresh.rejected), duplicates) == (0, 0, 8)
