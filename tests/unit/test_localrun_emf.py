"""EMF ingestion: documents written by aws-embedded-metrics become CloudWatch metrics."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from aws_embedded_metrics.logger.metrics_context import MetricsContext
from aws_embedded_metrics.serializers.log_serializer import LogSerializer
from aws_embedded_metrics.storage_resolution import StorageResolution

from localrun.cloudwatch.emf import EmfError, parse_line
from localrun.cloudwatch.metrics import MetricsHub, percentile, series_key
from localrun.cloudwatch.observe import RunnerTelemetry
from localrun.invoke.function import Function, Invocation


def _emf_lines(
    metrics: dict[str, list[float]], dimensions: dict[str, str], namespace: str = "DynamoDBUsage"
) -> list[str]:
    """What the EMF library itself prints (its serializer), not a hand-written document."""
    context = MetricsContext.empty()
    context.namespace = namespace
    context.put_dimensions(dimensions)
    for name, values in metrics.items():
        for value in values:
            context.put_metric(name, value, "Milliseconds", StorageResolution.STANDARD)
    return list(LogSerializer.serialize(context))


def test_a_document_from_the_emf_library_becomes_datums():
    (line,) = _emf_lines({"ChangeLagMs": [12.0, 30.0, 7.0]}, {"TableName": "Users"})
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


def test_invocation_output_reaches_cloudwatch_and_the_percentile_store(aws, tmp_path):
    # GIVEN an invocation whose handler printed EMF and a log line
    lines = _emf_lines(
        {"ReplicationLagMs": [float(v) for v in range(1, 101)]}, {"TableName": "Users"}, "DynamoDBReplication"
    )
    invocation = Invocation("req-1", None, None, None, 12.5, output=(*lines, "a log line"))
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    hub = MetricsHub(lambda region: cloudwatch)
    telemetry = RunnerTelemetry(hub, log_dir=tmp_path)
    # WHEN the runner reports it and the hub flushes
    telemetry.invoked(
        Function("Users-replicator", lambda e, c: None), invocation, records=3, iterator_age_ms=1500.0
    )
    hub.flush()
    # THEN CloudWatch has the EMF values and Lambda's own metrics
    now = dt.datetime.now(dt.UTC)

    def stat(namespace: str, name: str, dims: list[tuple[str, str]], statistic: str) -> float:
        result = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "q",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                        },
                        "Period": 3600,
                        "Stat": statistic,
                    },
                }
            ],
            StartTime=now - dt.timedelta(hours=1),
            EndTime=now + dt.timedelta(hours=1),
        )["MetricDataResults"][0]["Values"]
        return float(sum(result))

    assert stat("DynamoDBReplication", "ReplicationLagMs", [("TableName", "Users")], "Sum") == 5050
    assert stat("DynamoDBReplication", "ReplicationLagMs", [("TableName", "Users")], "SampleCount") == 100
    assert stat("AWS/Lambda", "IteratorAge", [("FunctionName", "Users-replicator")], "Maximum") == 1500
    assert stat("AWS/Lambda", "Invocations", [("FunctionName", "Users-replicator")], "Sum") == 1
    # AND percentiles come from the raw values kept locally
    values = [
        v
        for _, v in hub.samples(
            series_key("us-east-1", "DynamoDBReplication", "ReplicationLagMs", [("TableName", "Users")])
        )
    ]
    assert (percentile(values, 50), percentile(values, 99)) == (50.0, 99.0)
    # AND the log line went to the function's log, not to CloudWatch metrics
    log = (tmp_path / "Users-replicator.log").read_text()
    assert "a log line" in log and "_aws" not in log
