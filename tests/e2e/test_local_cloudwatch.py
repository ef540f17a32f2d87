"""The embedded server's CloudWatch answers the AWS CLI's questions as CloudWatch does."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from localrun.aws.clients import AwsClients
from localrun.aws.server import EmbeddedServer

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef

TABLE: DimensionTypeDef = {"Name": "TableName", "Value": "Users"}


def _publish(cloudwatch, now):
    # GIVEN one metric published three times under two dimension sets, as the replicator's EMF does
    for _ in range(3):
        cloudwatch.put_metric_data(
            Namespace="DynamoDBReplication",
            MetricData=[
                {"MetricName": "RecordsReplicated", "Dimensions": [TABLE], "Value": 4.0, "Timestamp": now},
                {
                    "MetricName": "RecordsReplicated",
                    "Dimensions": [TABLE, {"Name": "Operation", "Value": "INSERT"}],
                    "Value": 4.0,
                    "Timestamp": now,
                },
            ],
        )


def test_list_metrics_lists_each_metric_once_and_statistics_match_exact_dimensions():
    now = dt.datetime.now(dt.UTC)
    with EmbeddedServer() as server:
        cloudwatch = AwsClients(server.url, fake_credentials=True).cloudwatch("us-east-1")
        _publish(cloudwatch, now)
        # WHEN listed, THEN each (name, dimension set) appears once
        listed = cloudwatch.list_metrics(Namespace="DynamoDBReplication")["Metrics"]
        assert sorted(len(m["Dimensions"]) for m in listed) == [1, 2]
        # WHEN the table total is asked for, THEN only the TableName-only series is summed
        answer = cloudwatch.get_metric_statistics(
            Namespace="DynamoDBReplication",
            MetricName="RecordsReplicated",
            Dimensions=[TABLE],
            StartTime=now - dt.timedelta(minutes=5),
            EndTime=now + dt.timedelta(minutes=5),
            Period=600,
            Statistics=["Sum", "SampleCount"],
        )
        (point,) = answer["Datapoints"]
        assert (point["Sum"], point["SampleCount"]) == (12.0, 3.0)
