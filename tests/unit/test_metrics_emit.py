"""EMF rendering: catalogue-driven names, EMF limits, distributions published whole."""

from __future__ import annotations

import ast
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import EventName
from metrics.aggregate import TableAggregate
from metrics.emit import (
    MAX_VALUES,
    Series,
    active_user_series,
    cloudwatch_timestamp,
    rate_series,
    render,
)
from metrics.errors import EmissionError
from metrics.settings import Settings
from metrics.sketch import DistinctCounter, hash64
from telemetry import catalogue as c
from telemetry.catalogue import ChangeType
from telemetry.emf import histogram_chunks
from tests.support.emf import parse_output, totals

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
SETTINGS = Settings(
    tracked_attributes=("plan", "country"), segment_attribute="platform", segment_values=("ios", "web")
)


@given(st.lists(st.integers(min_value=0, max_value=400), max_size=3000))
def test_histogram_chunks_hold_every_value_once_within_the_emf_bin_limit(values):
    chunks = histogram_chunks(values)

    assert all(0 < len(chunk.bins) <= MAX_VALUES for chunk in chunks)
    bins = [pair for chunk in chunks for pair in chunk.bins]
    assert [value for value, _ in bins] == sorted(set(values))  # ascending, each value in one bin
    assert Counter({value: count for value, count in bins}) == Counter(values)
    for chunk in chunks:
        member = chunk.member()
        assert member["Count"] == sum(count for _, count in chunk.bins)
        assert member["Sum"] == sum(value * count for value, count in chunk.bins)


def _aggregate() -> TableAggregate:
    agg = TableAggregate(item_changes=7, ttl_deletes=2, malformed=1)
    agg.by_event.update({EventName.INSERT: 4, EventName.MODIFY: 2, EventName.REMOVE: 1})
    agg.by_segment.update({"ios": 5, "other": 2})
    agg.attribute_changes.update({("plan", ChangeType.CHANGED): 2, ("country", ChangeType.ADDED): 1})
    agg.item_sizes = list(range(10_000))
    agg.lags_ms = [5, 5, 7]
    return agg


def test_rate_documents_carry_exactly_the_catalogue_series():
    lines = render(rate_series("Users", _aggregate(), SETTINGS), "DynamoDBUsage", NOW)

    documents = parse_output(lines)
    # table, event names, segments, attribute changes; 10,000 distinct sizes take 99 more documents
    assert len(documents) == len(lines) == 1 + 3 + 2 + 2 + 99
    series = totals(documents)
    t = (c.TABLE, "Users")
    assert series[(c.ITEM_CHANGES.name, (t,))] == [7]
    assert series[(c.TTL_DELETES.name, (t,))] == [2]
    assert series[(c.MALFORMED_RECORDS.name, (t,))] == [1]
    assert series[(c.CHANGE_LAG.name, (t,))] == [5, 5, 7]
    assert sorted(series[(c.ITEM_SIZE.name, (t,))]) == list(range(10_000))  # every size, none sampled
    assert series[(c.ITEM_CHANGES.name, ((c.EVENT_NAME, "REMOVE"), t))] == [1]
    assert series[(c.ITEM_CHANGES.name, ((c.SEGMENT, "ios"), t))] == [5]
    assert series[(c.ATTRIBUTE_CHANGES.name, ((c.ATTRIBUTE, "plan"), (c.CHANGE_TYPE, "changed"), t))] == [2]
    for doc in documents:
        assert doc.timestamp_ms == int(NOW.timestamp() * 1000)
        for one in doc.series:
            spec = next(s for s in c.USAGE_METRICS if s.name == one.metric)
            assert tuple(one.dimensions) in spec.dimension_sets
            assert one.unit == spec.unit.value
            assert one.storage_resolution == (1 if spec.high_resolution else 60)
            assert one.namespace == "DynamoDBUsage"
        assert set(doc.raw) - {"_aws"} == doc.metric_names | set(doc.series[0].dimensions)  # no properties


def test_active_users_total_is_the_union_of_segments():
    ios, web = DistinctCounter(), DistinctCounter()
    ios.update(hash64({"S": f"u{i}"}) for i in range(10))
    web.update(hash64({"S": f"u{i}"}) for i in range(5, 12))

    series = totals(
        parse_output(render(active_user_series("Users", {"ios": ios, "web": web}, SETTINGS), "N", NOW))
    )

    assert series[(c.ACTIVE_USERS.name, ((c.TABLE, "Users"),))] == [12]
    assert series[(c.ACTIVE_USERS.name, ((c.SEGMENT, "ios"), (c.TABLE, "Users")))] == [10]
    assert series[(c.ACTIVE_USERS.name, ((c.SEGMENT, "web"), (c.TABLE, "Users")))] == [7]


def test_breakdowns_are_omitted_when_nothing_happened():
    lines = render(rate_series("Users", TableAggregate(), Settings()), "N", NOW)

    (document,) = parse_output(lines)
    assert document.metric_names == {c.ITEM_CHANGES.name, c.TTL_DELETES.name, c.MALFORMED_RECORDS.name}


def test_a_series_outside_the_catalogue_or_the_limits_is_refused():
    with pytest.raises(EmissionError, match="not published under"):
        Series.of(c.ITEM_SIZE, {c.TABLE: "Users", c.SEGMENT: "ios"}, [1])
    two_counts = Series.of(c.ITEM_CHANGES, {c.TABLE: "Users"}, [1, 2])
    with pytest.raises(EmissionError, match="a counter has one"):
        render([two_counts], "N", NOW)
    twice = Series.of(c.ITEM_CHANGES, {c.TABLE: "Users"}, [1])
    with pytest.raises(EmissionError, match="twice"):
        render([twice, twice], "N", NOW)


def test_timestamps_cloudwatch_would_refuse_fall_back_to_now():
    assert cloudwatch_timestamp(NOW - dt.timedelta(minutes=3), NOW) == NOW - dt.timedelta(minutes=3)
    assert cloudwatch_timestamp(NOW - dt.timedelta(days=15), NOW) == NOW
    assert cloudwatch_timestamp(NOW + dt.timedelta(hours=3), NOW) == NOW


def test_metric_names_come_from_the_catalogue_only():
    # A rename in telemetry/catalogue.py must reach the handler: no metric or dimension name is
    # spelled out as a string literal anywhere in the metrics package.
    names = {spec.name for spec in c.USAGE_METRICS} | {
        c.TABLE,
        c.EVENT_NAME,
        c.SEGMENT,
        c.ATTRIBUTE,
        c.CHANGE_TYPE,
    }
    package = Path(__file__).resolve().parents[2] / "metrics"
    for source in package.glob("*.py"):
        literals = {
            node.value
            for node in ast.walk(ast.parse(source.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not literals & names, f"{source.name} spells out {literals & names}"
