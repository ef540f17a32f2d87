"""The source-region stack: table and stream, both consumers, their mappings, IAM and alarms."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from replicator.settings import from_environ
from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def test_source_table_streams_both_images_with_pitr_ttl_and_retention(cdk_default: Synthesized):
    # GIVEN the default configuration (the Users table)
    template = cdk_default.source
    # THEN the table is created with a NEW_AND_OLD_IMAGES stream, PITR, encryption and TTL
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "TableName": "Users",
                    "KeySchema": [
                        {"AttributeName": "user_id", "KeyType": "HASH"},
                        {"AttributeName": "timestamp", "KeyType": "RANGE"},
                    ],
                    "AttributeDefinitions": Match.array_with(
                        [
                            {"AttributeName": "user_id", "AttributeType": "S"},
                            {"AttributeName": "timestamp", "AttributeType": "N"},
                        ]
                    ),
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    # SSEEnabled without a key: the AWS-managed key aws/dynamodb
                    "SSESpecification": {"SSEEnabled": True},
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                    "DeletionProtectionEnabled": True,
                }
            ),
            # AND a `cdk destroy` leaves the user data in place
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_customer_managed_key_encrypts_table_queues_and_topic(cdk_all_options: Synthesized):
    template = cdk_all_options.source
    template.has_resource_properties(
        "AWS::KMS::Key", {"EnableKeyRotation": True, "Description": Match.string_like_regexp("Users")}
    )
    key_arn = {"Fn::GetAtt": [Match.string_like_regexp("^EncryptionKey"), "Arn"]}
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}},
    )
    template.resource_properties_count_is("AWS::SQS::Queue", {"KmsMasterKeyId": key_arn}, 2)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": key_arn})
    # The key outlives the stack: the retained table is unreadable without it.
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})


def test_imported_table_is_not_created_and_its_stream_is_consumed(cdk_imported_table: Synthesized):
    template = cdk_imported_table.source
    stream_arn = cdk_imported_table.config.existing_stream_arn
    # (the only table created is the usage table: tests/cdk/test_cdk_usage.py)
    template.resource_properties_count_is("AWS::DynamoDB::Table", {"TableName": "Users"}, 0)
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.resource_properties_count_is(
        "AWS::Lambda::EventSourceMapping", {"EventSourceArn": stream_arn}, 2
    )
    # AND both consumers may decrypt records of a stream under the table's own key
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "kms:Decrypt",
                                "Resource": cdk_imported_table.config.existing_table_key_arn,
                            }
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize(
    ("function", "handler", "memory", "timeout"),
    [
        pytest.param("Users-replicator", "replicator.handler.handler", 1024, 120, id="replicator"),
        pytest.param("Users-usage-metrics", "metrics.handler.handler", 512, 60, id="metrics"),
    ],
)
def test_functions_run_python_on_arm64_with_json_logs(
    cdk_default: Synthesized, function, handler, memory, timeout
):
    template = cdk_default.source
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": function,
            "Handler": handler,
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "MemorySize": memory,
            "Timeout": timeout,
            "LoggingConfig": Match.object_like(
                {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "LogGroup": {"Ref": Match.any_value()}}
            ),
            "TracingConfig": {"Mode": "Active"},
        },
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": f"/aws/lambda/{function}", "RetentionInDays": 30}
    )


def test_replicator_environment_names_the_replica_region_tables(cdk_default: Synthesized):
    cdk_default.source.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "Users-replicator",
            "Environment": {
                "Variables": {
                    "REPLICA_TABLE_NAME": "Users",
                    "REPLICA_REGION": "eu-west-1",
                    "STATE_TABLE_NAME": "Users-replication-state",
                    "TTL_DELETES": "replicate",
                    "EXCLUDE_ATTRIBUTES": "",
                    "TOMBSTONE_RETENTION_HOURS": "72",
                    "METRICS_NAMESPACE": "DynamoDBReplication",
                }
            },
        },
    )


def test_metrics_environment_comes_from_the_configuration(cdk_default: Synthesized):
    cdk_default.source.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "Users-usage-metrics",
            "Environment": {
                "Variables": {
                    "METRICS_NAMESPACE": "DynamoDBUsage",
                    "USER_ID_ATTRIBUTE": "user_id",
                    "TRACKED_ATTRIBUTES": "plan,country,app_version",
                    "SEGMENT_ATTRIBUTE": "platform",
                    "SEGMENT_VALUES": "ios,android,web",
                    "USAGE_TABLE_NAME": "Users-usage",
                }
            },
        },
    )


def _mapping(function_ref: str, **extra):
    return {
        "FunctionName": {"Ref": Match.string_like_regexp(function_ref)},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 10,
        "MaximumRecordAgeInSeconds": 86400,
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "DestinationConfig": {
            "OnFailure": {"Destination": {"Fn::GetAtt": [Match.string_like_regexp("FailureQueue"), "Arn"]}}
        },
        **extra,
    }


def test_replicator_mapping_bounds_retries_and_never_filters(cdk_default: Synthesized):
    template = cdk_default.source
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        _mapping(
            "^ReplicatorFunction",
            StartingPosition="TRIM_HORIZON",
            FilterCriteria=Match.absent(),
            # No parallelizationFactor in cdk.json: chosen for us-east-1 -> eu-west-1 (about 75 ms).
            ParallelizationFactor=4,
        ),
    )


@pytest.mark.parametrize(
    ("variant", "replica_region", "factor"),
    [
        pytest.param("cdk_default", "eu-west-1", 4, id="us-east-1-to-eu-west-1"),
        pytest.param("cdk_far_replica_expire", "ap-southeast-2", 8, id="us-east-1-to-ap-southeast-2"),
    ],
)
def test_replicator_mapping_factor_comes_from_the_region_pair(variant, replica_region, factor, request):
    # GIVEN an app whose context sets no parallelizationFactor
    synthesized: Synthesized = request.getfixturevalue(variant)
    config = synthesized.config
    assert config.replica_region == replica_region
    # THEN the replicator's mapping runs the factor the region pair's round trip needs
    assert config.sizing.parallelization_factor == factor
    synthesized.source.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": Match.string_like_regexp("^ReplicatorFunction")},
            "ParallelizationFactor": factor,
        },
    )
    # AND the usage metrics keep one batch at a time per shard (one window state)
    synthesized.source.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": Match.string_like_regexp("^UsageMetricsFunction")},
            "ParallelizationFactor": 1,
        },
    )


def test_metrics_mapping_uses_a_tumbling_window(cdk_default: Synthesized):
    cdk_default.source.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        _mapping("^UsageMetricsFunction", StartingPosition="LATEST", TumblingWindowInSeconds=60),
    )


def test_mapping_batching_and_parallelization_follow_the_context(cdk_all_options: Synthesized):
    template = cdk_all_options.source
    template.resource_properties_count_is(
        "AWS::Lambda::EventSourceMapping", {"BatchSize": 250, "MaximumBatchingWindowInSeconds": 2}, 2
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": Match.string_like_regexp("^Replicator")},
            "ParallelizationFactor": 4,
        },
    )
    # The usage metrics keep one window state per shard: one batch at a time.
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": Match.string_like_regexp("^UsageMetrics")},
            "ParallelizationFactor": 1,
        },
    )


def test_failure_queues_are_encrypted_named_and_keep_two_weeks(cdk_default: Synthesized):
    for name in ("Users-replication-failures", "Users-usage-metrics-failures"):
        cdk_default.source.has_resource_properties(
            "AWS::SQS::Queue",
            {"QueueName": name, "SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 3600},
        )
    # AND they accept TLS requests only
    cdk_default.source.resource_properties_count_is(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
        2,
    )


def test_replicator_writes_only_the_replica_and_state_tables(cdk_default: Synthesized):
    def table_arn(name: str):
        return {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":dynamodb:eu-west-1:",
                    {"Ref": "AWS::AccountId"},
                    f":table/{name}",
                ],
            ]
        }

    cdk_default.source.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("^ReplicatorRole")}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Effect": "Allow",
                            "Action": ["dynamodb:PutItem", "dynamodb:DeleteItem"],
                            "Resource": table_arn("Users"),
                        },
                        {
                            "Effect": "Allow",
                            "Action": [
                                "dynamodb:PutItem",
                                "dynamodb:UpdateItem",
                                "dynamodb:GetItem",
                                "dynamodb:BatchGetItem",
                            ],
                            "Resource": table_arn("Users-replication-state"),
                        },
                    ]
                )
            },
        },
    )


def test_replicator_with_replica_role_may_only_assume_it(cdk_all_options: Synthesized):
    template = cdk_all_options.source.to_json()
    role_arn = cdk_all_options.config.replica_role_arn
    statements = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        and resource["Properties"]["Roles"][0]["Ref"].startswith("ReplicatorRole")
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert {"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": role_arn} in statements
    writes = [s for s in statements if "dynamodb:PutItem" in s["Action"]]
    assert writes == [], "with a replica role the replicator must not write the replica directly"
    cdk_all_options.source.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "Users-replicator",
            "Environment": {"Variables": Match.object_like({"REPLICA_ROLE_ARN": role_arn})},
        },
    )
    cdk_all_options.source.has_resource_properties(
        "AWS::IAM::Role", {"RoleName": "Users-replicator-us-east-1"}
    )


@pytest.mark.parametrize(
    ("alarm", "namespace", "metric", "statistic", "threshold"),
    [
        pytest.param(
            "Users-replicator-iterator-age", "AWS/Lambda", "IteratorAge", "Maximum", 60000, id="iterator-age"
        ),
        pytest.param("Users-replicator-errors", "AWS/Lambda", "Errors", "Sum", 1, id="errors"),
        pytest.param(
            "Users-replication-failures-not-empty",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            1,
            id="failure-queue",
        ),
        pytest.param(
            "Users-usage-metrics-iterator-age",
            "AWS/Lambda",
            "IteratorAge",
            "Maximum",
            60000,
            id="metrics-age",
        ),
        pytest.param(
            "Users-replica-write-throttled",
            "DynamoDBReplication",
            "ReplicaThrottles",
            "Sum",
            1,
            id="throttles",
        ),
    ],
)
def test_source_alarms_notify_the_topic(
    cdk_default: Synthesized, alarm, namespace, metric, statistic, threshold
):
    cdk_default.source.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": alarm,
            "Namespace": namespace,
            "MetricName": metric,
            "Statistic": statistic,
            "Threshold": threshold,
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmTopic")}],
            "TreatMissingData": "notBreaching",
        },
    )


def test_replication_lag_alarm_uses_the_p99_percentile_and_still_fires_in_a_full_stall(
    cdk_default: Synthesized,
):
    # GIVEN the lag alarm as deployed
    (alarm,) = cdk_default.source.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": "Users-replication-lag-p99"}}
    ).values()
    props = alarm["Properties"]
    queries = {query["Id"]: query for query in props["Metrics"]}
    # THEN it reads the lag's p99 per minute, as before
    assert queries["lag"]["MetricStat"] == {
        "Metric": {
            "Namespace": "DynamoDBReplication",
            "MetricName": "ReplicationLagMs",
            "Dimensions": [{"Name": "TableName", "Value": "Users"}],
        },
        "Period": 60,
        "Stat": "p99",
    }
    # AND the replicator's iterator age, which Lambda publishes for every invocation, even one
    # that applies nothing (a full stall publishes no lag at all: issue 13)
    assert queries["age"]["MetricStat"] == {
        "Metric": {
            "Namespace": "AWS/Lambda",
            "MetricName": "IteratorAge",
            "Dimensions": [{"Name": "FunctionName", "Value": "Users-replicator"}],
        },
        "Period": 60,
        "Stat": "Maximum",
    }
    # AND it alarms on the worse of the two, the lag counted as 0 in a minute without any
    (expression,) = [query for query in props["Metrics"] if query.get("ReturnData", True)]
    assert expression["Expression"] == "MAX([FILL(lag, 0), age])"
    assert not queries["lag"]["ReturnData"] and not queries["age"]["ReturnData"]
    assert (props["Threshold"], props["ComparisonOperator"]) == (5000, "GreaterThanThreshold")
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (5, 3)
    # AND an idle table (no invocation, so neither series) leaves it OK
    assert props["TreatMissingData"] == "notBreaching"


def test_source_outputs_give_the_usage_dashboard_url(cdk_default: Synthesized):
    cdk_default.source.has_output(
        "UsageDashboardUrl",
        {
            "Value": "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
            "#dashboards/dashboard/Users-usage"
        },
    )
    cdk_default.source.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": "Users-usage"})


@pytest.mark.parametrize("variant", ["cdk_default", "cdk_all_options"])
def test_replicator_accepts_the_environment_the_stack_gives_it(variant, request):
    # The replicator's own settings parser is the judge of its environment variables.
    synthesized: Synthesized = request.getfixturevalue(variant)
    (function,) = [
        resource["Properties"]
        for resource in synthesized.source.find_resources("AWS::Lambda::Function").values()
        if resource["Properties"]["FunctionName"] == "Users-replicator"
    ]
    settings = from_environ(function["Environment"]["Variables"])
    config = synthesized.config
    assert (settings.replica_table, settings.replica_region, settings.state_table) == (
        config.replica_table_name,
        config.replica_region,
        config.state_table_name,
    )
    assert settings.role_arn == config.replica_role_arn
