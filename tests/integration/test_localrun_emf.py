"""EMF ingestion end to end: an invocation's output reaches moto's CloudWatch and the percentile store."""

from __future__ import annotations

import datetime as dt

import boto3

from localrun.cloudwatch.metrics import MetricsHub, percentile, series_key
from localrun.cloudwatch.observe import RunnerTelemetry
from localrun.invoke.function import Function, Invocation
from tests.support.emf_library import emf_lines


def test_invocation_output_reaches_cloudwatch_and_the_percentile_store(aws, tmp_path):
    # GIVEN an invocation whose handler printed EMF and a log line
    lines = emf_lines(
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
