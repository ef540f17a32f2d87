"""The replica-region stack: retained replica and state tables, writer role, alarms, dashboard."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")

RETAINED = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
PROTECTED = {
    "DeletionProtectionEnabled": True,
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    "SSESpecification": Match.object_like({"SSEEnabled": True}),
}


def test_stacks_are_in_their_regions_and_the_replica_deploys_first(cdk_default: Synthesized):
    deployment = cdk_default.deployment
    assert (deployment.source.region, deployment.replica.region) == ("us-east-1", "eu-west-1")
    assert deployment.replica in deployment.source.dependencies
    assert (deployment.source.stack_name, deployment.replica.stack_name) == (
        "Users-replication-source",
        "Users-replication-replica",
    )


def test_replica_table_has_the_source_key_schema_and_no_ttl(cdk_default: Synthesized):
    cdk_default.replica.has_resource(
        "AWS::DynamoDB::Table",
        {
            **RETAINED,
            "Properties": Match.object_like(
                {
                    **PROTECTED,
                    "TableName": "Users",
                    "KeySchema": [
                        {"AttributeName": "user_id", "KeyType": "HASH"},
                        {"AttributeName": "timestamp", "KeyType": "RANGE"},
                    ],
                    # It follows the source's TTL deletes through the stream instead.
                    "TimeToLiveSpecification": Match.absent(),
                    "StreamSpecification": Match.absent(),
                }
            ),
        },
    )


def test_with_ttl_deletes_expire_the_replica_expires_items_on_the_sources_ttl_attribute(
    cdk_far_replica_expire: Synthesized,
):
    # GIVEN ttlDeletes=expire (the replicator writes nothing for a TTL delete)
    assert cdk_far_replica_expire.config.ttl_deletes == "expire"
    # THEN the replica table's own TTL deletes expired items, on the source's TTL attribute
    cdk_far_replica_expire.replica.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "Users",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        },
    )
    # AND the replicator runs with that policy
    cdk_far_replica_expire.source.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "Users-replicator",
            "Environment": {"Variables": Match.object_like({"TTL_DELETES": "expire"})},
        },
    )


def test_state_table_is_keyed_by_pk_and_expires_rows(cdk_default: Synthesized):
    cdk_default.replica.has_resource(
        "AWS::DynamoDB::Table",
        {
            **RETAINED,
            "Properties": Match.object_like(
                {
                    **PROTECTED,
                    "TableName": "Users-replication-state",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                }
            ),
        },
    )


def test_replica_stack_has_no_cross_region_references(cdk_default: Synthesized):
    text = json.dumps(cdk_default.replica.to_json())
    # crossRegionReferences would show up as SSM-reading custom resources or Fn::ImportValue.
    assert "Custom::CrossRegion" not in text
    assert "Fn::ImportValue" not in text
    assert "Fn::ImportValue" not in json.dumps(cdk_default.source.to_json())
    cdk_default.replica.resource_count_is("AWS::Lambda::Function", 0)


def test_replica_key_lets_account_principals_use_it_through_dynamodb_only(cdk_all_options: Synthesized):
    cdk_all_options.replica.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"AWS": "*"},
                                "Condition": {
                                    "StringEquals": {
                                        "kms:CallerAccount": {"Ref": "AWS::AccountId"},
                                        "kms:ViaService": "dynamodb.eu-west-1.amazonaws.com",
                                    }
                                },
                            }
                        )
                    ]
                )
            },
        },
    )


def test_writer_role_trusts_only_the_replicator_role(cdk_all_options: Synthesized):
    deployment = cdk_all_options.deployment
    assert deployment.replica.account == "222222222222"
    cdk_all_options.replica.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "UsersReplicaWriter",
            "Path": "/replication/",
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "ArnEquals": {
                                    "aws:PrincipalArn": {
                                        "Fn::Join": [
                                            "",
                                            [
                                                "arn:",
                                                {"Ref": "AWS::Partition"},
                                                ":iam::111111111111:role/Users-replicator-us-east-1",
                                            ],
                                        ]
                                    }
                                }
                            },
                        }
                    )
                ]
            },
        },
    )
    cdk_all_options.replica.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": Match.array_with(["dynamodb:PutItem", "dynamodb:DeleteItem"]),
                            "Resource": Match.any_value(),
                        }
                    ),
                    Match.object_like(
                        {"Action": Match.array_with(["dynamodb:UpdateItem"]), "Resource": Match.any_value()}
                    ),
                ]
            }
        },
    )


def test_replica_throttling_alarm_stays_in_the_replica_region(cdk_default: Synthesized):
    cdk_default.replica.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/DynamoDB",
            "MetricName": "WriteThrottleEvents",
            "Dimensions": [{"Name": "TableName", "Value": "Users"}],
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmTopic")}],
        },
    )


def test_alarm_email_subscribes_to_both_topics(cdk_all_options: Synthesized):
    for template in (cdk_all_options.source, cdk_all_options.replica):
        template.has_resource_properties(
            "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
        )


def test_a_redeploy_after_destroy_attaches_the_retained_tables_instead_of_creating_them(
    cdk_redeploy_after_destroy: Synthesized,
):
    # GIVEN the context of a redeploy after `make destroy`, which kept the source, replica and
    # state tables under their fixed names (a second CreateTable would fail: "already exists")
    synthesized = cdk_redeploy_after_destroy
    # THEN neither stack creates a table `make destroy` kept (the source stack creates only the
    # usage table, which `make destroy` deleted)
    synthesized.replica.resource_count_is("AWS::DynamoDB::Table", 0)
    synthesized.source.resource_count_is("AWS::DynamoDB::Table", 1)
    synthesized.source.resource_properties_count_is("AWS::DynamoDB::Table", {"TableName": "Users-usage"}, 1)
    # AND the replica stack still names them, and still watches the replica table's throttling
    synthesized.replica.has_output("ReplicaTableName", {"Value": "Users"})
    synthesized.replica.has_output("StateTableName", {"Value": "Users-replication-state"})
    synthesized.replica.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "WriteThrottleEvents", "Dimensions": [{"Name": "TableName", "Value": "Users"}]},
    )
    # AND the replicator writes exactly those two tables, in the replica region
    statements = [
        statement
        for resource in synthesized.source.find_resources("AWS::IAM::Policy").values()
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if "dynamodb:PutItem" in statement["Action"] and "UsageTable" not in json.dumps(statement["Resource"])
    ]
    resources = [json.dumps(statement["Resource"]) for statement in statements]
    assert len(resources) == 2
    assert ':dynamodb:eu-west-1:111111111111:table/Users"' in resources[0]
    assert ':dynamodb:eu-west-1:111111111111:table/Users-replication-state"' in resources[1]
