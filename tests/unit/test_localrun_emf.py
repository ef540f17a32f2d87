"""EMF ingestion: documents written by aws-embedded-metrics become CloudWatch metrics."""

from __future__ import annotations

import json

import pytest

from localrun.cloudwatch.emf import EmfError, parse_line
from tests.support.emf_library import emf_lines


def test_a_document_from_the_emf_library_becomes_datums():
    (line,) = emf_lines({"ChangeLagMs": [12.0, 30.0, 7.0]}, {"TableName": "Users"})
    (datum,) = parse_line(line) or []
    assert (datum.namespace, datum.name, datum.unit) == ("DynamoDBUsage", "ChangeLagMs", "Milliseconds")
    assert datum.dimensions == (("TableName", "Users"),)
    assert datum.values == (12.0, 30.0, 7.0)
    assert datum.storage_resolution == 60


def test_every_dimension_set_yields_its_own_datum():
    document = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "DynamoDBReplication",
                    "Dimensions": [["TableName"], ["TableName", "Operation"]],
                    "Metrics": [{"Name": "RecordsReplicated", "Unit": "Count", "StorageResolution": 1}],
                }
            ],
        },
        "TableName": "Users",
        "Operation": "INSERT",
        "RecordsReplicated": 4,
    }
    datums = parse_line(json.dumps(document)) or []
    assert [d.dimensions for d in datums] == [
        (("TableName", "Users"),),
        (("Operation", "INSERT"), ("TableName", "Users")),
    ]
    assert {d.storage_resolution for d in datums} == {1}
    assert datums[0].timestamp == 1_700_000_000.0


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("plain log line", id="text"),
        pytest.param('{"level": "INFO"}', id="json-log"),
        pytest.param("{", id="bad-json"),
    ],
)
def test_ordinary_log_lines_are_not_metrics(line):
    assert parse_line(line) is None


def test_a_dimension_without_a_value_is_rejected_as_cloudwatch_would():
    document = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": "N", "Dimensions": [["TableName"]], "Metrics": [{"Name": "M"}]}
            ],
        },
        "M": 1,
    }
    with pytest.raises(EmfError, match="TableName"):
        parse_line(json.dumps(document))


def _with_sizes(value: object) -> str:
    document = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": "N", "Dimensions": [["TableName"]], "Metrics": [{"Name": "ItemSizeBytes"}]}
            ],
        },
        "TableName": "Users",
        "ItemSizeBytes": value,
    }
    return json.dumps(document)


def test_a_histogram_becomes_each_value_repeated_by_its_count():
    # GIVEN a document with the EMF histogram form (Values and Counts)
    line = _with_sizes({"Values": [5, 9], "Counts": [2, 3], "Max": 9, "Min": 5, "Count": 5, "Sum": 37})
    # WHEN the local runtime reads it
    (datum,) = parse_line(line) or []
    # THEN the datum holds every value as often as it occurred (raw values for percentiles)
    assert datum.values == (5.0, 5.0, 9.0, 9.0, 9.0)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        pytest.param({"Values": [5, 9], "Counts": [2]}, "same length", id="lengths"),
        pytest.param({"Values": [5], "Counts": [1.5]}, "whole counts", id="fractional-count"),
        pytest.param({"Values": list(range(101)), "Counts": [1] * 101}, "101 bins", id="101-bins"),
    ],
)
def test_a_histogram_the_local_runtime_cannot_take_is_rejected(value, words):
    with pytest.raises(EmfError, match=words):
        parse_line(_with_sizes(value))
