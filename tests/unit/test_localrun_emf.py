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
