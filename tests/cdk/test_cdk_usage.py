"""The usage table and the merge function in the source stack: encryption, TTL, PITR, retention,
least privilege, the schedule, and environments the functions' own settings parsers accept."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from cdk.constructs.usage_metrics import MERGE_ACTIONS, SUMMARY_ACTIONS
from metrics.settings import from_environ, merge_from_environ
from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def _function(synthesized: Synthesized, name: str) -> dict[str, Any]:
    (function,) = [
        resource["Properties"]
        for resource in synthesized.source.find_resources("AWS::Lambda::Function").values()
        if resource["Properties"]["FunctionName"] == name
    ]
    return function


def _statements(synthesized: Synthesized, role_prefix: str) -> list[dict[str, Any]]:
    return [
        statement
        for resource in synthesized.source.to_json()["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        and resource["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


USAGE_TABLE_ARN = {"Fn::GetAtt": [Match.string_like_regexp("^UsageTable"), "Arn"]}


@pytest.mark.parametrize("variant", ["cdk_default", "cdk_imported_table"])
def test_the_usage_table_is_encrypted_expires_its_items_has_pitr_and_goes_with_the_stack(variant, request):
    synthesized: Synthesized = request.getfixturevalue(variant)
    synthesized.source.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "TableName": "Users-usage",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                    "SSESpecification": {"SSEEnabled": True},
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "DeletionProtectionEnabled": False,
                }
            ),
            # derived metrics and hashed ids: deleted with the stack (docs/metrics.md, "The usage table")
            "DeletionPolicy": "Delete",
        },
    )


def test_with_a_customer_managed_key_the_usage_table_uses_it(cdk_all_options: Synthesized):
    key_arn = {"Fn::GetAtt": [Match.string_like_regexp("^EncryptionKey"), "Arn"]}
    cdk_all_options.source.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "Users-usage",
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
        },
    )


def _on_usage_table(synthesized: Synthesized, role_prefix: str) -> list[Any]:
    """The actions of a role's statements on the usage table."""
    return [
        statement["Action"]
        for statement in _statements(synthesized, role_prefix)
        if "UsageTable" in str(statement["Resource"])
    ]


def test_the_consumer_may_only_put_summaries_and_the_merge_only_what_it_calls(cdk_default: Synthesized):
    # THEN the consumer may put items and nothing else; the merge exactly the calls it makes
    assert _on_usage_table(cdk_default, "UsageMetricsRole") == ["dynamodb:PutItem"] == list(SUMMARY_ACTIONS)
    assert _on_usage_table(cdk_default, "UsageMergeRole") == [list(MERGE_ACTIONS)]
    # AND both name the table itself, and no other role's policy names it at all
    for role in ("UsageMetricsRole", "UsageMergeRole"):
        cdk_default.source.has_resource_properties(
            "AWS::IAM::Policy",
            {
                "Roles": [{"Ref": Match.string_like_regexp(f"^{role}")}],
                "PolicyDocument": {
                    "Statement": Match.array_with([Match.object_like({"Resource": USAGE_TABLE_ARN})])
                },
            },
        )
    for resource in cdk_default.source.to_json()["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and "UsageTable" in str(resource["Properties"]):
            role = resource["Properties"]["Roles"][0]["Ref"]
            assert role.startswith(("UsageMetricsRole", "UsageMergeRole")), role


def test_the_merge_runs_every_minute_one_at_a_time_without_retries(cdk_default: Synthesized):
    template = cdk_default.source
    function = _function(cdk_default, "Users-usage-merge")
    assert function["Handler"] == "metrics.merge.handler"
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "State": "ENABLED",
            "Targets": [Match.object_like({"RetryPolicy": {"MaximumRetryAttempts": 0}})],
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 120}
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": "/aws/lambda/Users-usage-merge", "RetentionInDays": 30}
    )
    template.has_output("UsageTableName", {"Value": {"Ref": Match.string_like_regexp("^UsageTable")}})


@pytest.mark.parametrize("variant", ["cdk_default", "cdk_all_options"])
def test_both_functions_accept_the_environment_the_stack_gives_them(variant, request):
    # The functions' own settings parsers are the judges of their environment variables.
    synthesized: Synthesized = request.getfixturevalue(variant)
    consumer = from_environ(_function(synthesized, "Users-usage-metrics")["Environment"]["Variables"])
    merge = merge_from_environ(_function(synthesized, "Users-usage-merge")["Environment"]["Variables"])
    assert consumer.usage_table is not None and consumer.usage_table.name == "Users-usage"
    assert (merge.usage_table.name, merge.source_table) == ("Users-usage", "Users")
    assert merge.settings.segments == consumer.segments == ("ios", "android", "web", "other")


def test_a_merge_failing_for_minutes_raises_an_alarm_to_the_topic(cdk_default: Synthesized):
    cdk_default.source.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "Users-usage-merge-errors",
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": "Users-usage-merge"}],
            "Statistic": "Sum",
            "Threshold": 1,
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 3,
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmTopic")}],
        },
    )
