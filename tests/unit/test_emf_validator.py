"""The EMF validator in tests/support must itself refuse what the specification forbids."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support.emf import EmfError, parse, parse_output, totals

VALID: dict[str, Any] = {
    "_aws": {
        "Timestamp": 1_700_000_000_000,
        "CloudWatchMetrics": [
            {
                "Namespace": "DynamoDBUsage",
                "Dimensions": [["TableName"], ["TableName", "EventName"]],
                "Metrics": [
                    {"Name": "ItemChanges", "Unit": "Count", "StorageResolution": 1},
                    {"Name": "ItemSizeBytes", "Unit": "Bytes"},
                ],
            }
        ],
    },
    "TableName": "Users",
    "EventName": "INSERT",
    "ItemChanges": 3,
    "ItemSizeBytes": [10, 20.5],
}


def _broken(change) -> str:
    doc = copy.deepcopy(VALID)
    change(doc)
    return json.dumps(doc)


def test_a_valid_document_yields_one_series_per_dimension_set_and_metric():
    document = parse(json.dumps(VALID))

    assert document.timestamp_ms == 1_700_000_000_000
    keys = {s.key: s.values for s in document.series}
    assert keys == {
        ("ItemChanges", (("TableName", "Users"),)): (3.0,),
        ("ItemChanges", (("EventName", "INSERT"), ("TableName", "Users"))): (3.0,),
        ("ItemSizeBytes", (("TableName", "Users"),)): (10.0, 20.5),
        ("ItemSizeBytes", (("EventName", "INSERT"), ("TableName", "Users"))): (10.0, 20.5),
    }
    assert {s.metric: s.storage_resolution for s in document.series} == {
        "ItemChanges": 1,
        "ItemSizeBytes": 60,
    }


HISTOGRAM = {"Values": [10, 20.5], "Counts": [3, 1], "Max": 20.5, "Min": 10, "Count": 4, "Sum": 50.5}


def test_a_histogram_stands_for_each_value_repeated_by_its_count():
    # GIVEN the histogram form of AWS's EMF library for Java
    document = parse(_broken(lambda d: d.update(ItemSizeBytes=dict(HISTOGRAM))))
    # THEN its series carries every value as many times as it occurred
    sizes = {s.values for s in document.series if s.metric == "ItemSizeBytes"}
    assert sizes == {(10.0, 10.0, 10.0, 20.5)}


def _histogram(**change: object) -> object:
    return lambda d: d.update(ItemSizeBytes={**HISTOGRAM, **change})


def test_parse_output_skips_plain_log_lines_and_totals_add_up():
    text = "START RequestId: 1\n" + json.dumps(VALID) + "\nsome log line\n" + json.dumps(VALID) + "\n"

    documents = parse_output(text)

    assert len(documents) == 2
    assert totals(documents)[("ItemChanges", (("TableName", "Users"),))] == [3.0, 3.0]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        pytest.param(lambda d: d.pop("_aws"), "_aws", id="no-metadata"),
        pytest.param(lambda d: d["_aws"].update(Timestamp="now"), "Timestamp", id="timestamp-text"),
        pytest.param(lambda d: d["_aws"].update(CloudWatchMetrics=[]), "non-empty", id="no-directive"),
        pytest.param(
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(Namespace="a b"), "Namespace", id="ns"
        ),
        pytest.param(lambda d: d.pop("EventName"), "EventName", id="dimension-missing"),
        pytest.param(lambda d: d.update(TableName=5), "string", id="dimension-not-text"),
        pytest.param(lambda d: d.update(TableName="Us\u00e9rs"), "invalid value", id="dimension-not-ascii"),
        pytest.param(lambda d: d.pop("ItemChanges"), "ItemChanges", id="metric-missing"),
        pytest.param(lambda d: d.update(ItemChanges="3"), "number", id="metric-text"),
        pytest.param(lambda d: d.update(ItemSizeBytes=list(range(101))), "101 values", id="101-values"),
        pytest.param(lambda d: d.update(ItemSizeBytes=[]), "0 values", id="no-values"),
        pytest.param(_histogram(Counts=[3]), "1..100 bins", id="histogram-lengths"),
        pytest.param(
            _histogram(Values=list(range(101)), Counts=[1] * 101), "1..100 bins", id="histogram-101-bins"
        ),
        pytest.param(_histogram(Values=[10, 10]), "twice", id="histogram-repeated-value"),
        pytest.param(_histogram(Counts=[3, 0]), "positive", id="histogram-zero-count"),
        pytest.param(_histogram(Sum=51), "Sum", id="histogram-wrong-sum"),
        pytest.param(_histogram(Count=5), "Count", id="histogram-wrong-count"),
        pytest.param(
            lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].update(Unit="Users"), "Unit", id="unit"
        ),
        pytest.param(
            lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].update(StorageResolution=5),
            "StorageResolution",
            id="resolution",
        ),
        pytest.param(
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(Dimensions=[[f"D{i}" for i in range(31)]]),
            "31 names",
            id="31-dimensions",
        ),
        pytest.param(
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(
                Metrics=[{"Name": f"M{i}"} for i in range(101)]
            ),
            "101 metrics",
            id="101-metrics",
        ),
    ],
)
def test_violations_are_refused(change, words):
    with pytest.raises(EmfError, match=words):
        parse(_broken(change))


def test_nan_is_refused():
    with pytest.raises(EmfError, match="NaN"):
        parse(json.dumps(VALID).replace('"ItemChanges": 3', '"ItemChanges": NaN'))
