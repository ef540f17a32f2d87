"""The optional export-check stack (``exportCheck=true``): bucket, EMR Serverless application, job role."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from cdk.constructs.export_check import SPARK_VERSION
from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")

BUCKET = {"Fn::GetAtt": [Match.string_like_regexp("^ExportsBucket"), "Arn"]}


def _template(synthesized: Synthesized) -> Template:
    assert synthesized.export_check is not None
    return synthesized.export_check


def _objects(prefix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [BUCKET, f"/{prefix}*"]]}


def _only(template: Template, kind: str) -> Mapping[str, Any]:
    (resource,) = template.find_resources(kind).values()
    return resource


def test_without_the_flag_there_is_no_export_check_stack(cdk_default: Synthesized):
    # GIVEN the app as `make synth` builds it from cdk.json (exportCheck false)
    # THEN only the two table stacks are synthesized
    assert cdk_default.deployment.export_check is None
    assert cdk_default.export_check is None
    assert sorted(cdk_default.templates()) == [
        "Users-replication-replica.template.json",
        "Users-replication-source.template.json",
    ]


def test_the_stack_is_in_the_source_region_and_account(cdk_all_options: Synthesized):
    stacks = {stack.name: stack for stack in cdk_all_options.stacks().values()}
    stack = stacks["Users-replication-export-check"]
    assert (stack.region, stack.account) == ("us-east-1", "111111111111")


def test_the_bucket_is_private_encrypted_unversioned_and_kept(cdk_all_options: Synthesized):
    template = _template(cdk_all_options)
    bucket = _only(template, "AWS::S3::Bucket")
    props = bucket["Properties"]
    # THEN SSE-S3 encrypts every object by default
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    # AND public access is blocked four ways, ACLs are off
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # AND no versions keep expired exports billed
    assert "VersioningConfiguration" not in props
    # AND `make destroy` keeps it (CloudFormation cannot delete a bucket with objects)
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_lifecycle_expires_exports_results_and_logs_and_aborts_uploads(cdk_all_options: Synthesized):
    # GIVEN exportRetentionDays=3
    rules = _only(_template(cdk_all_options), "AWS::S3::Bucket")["Properties"]["LifecycleConfiguration"]
    # THEN exports, results and logs expire after 3 days, the code prefix never, and every
    # incomplete multipart upload is aborted after a day
    assert rules == {
        "Rules": [
            {
                "Id": "abort-incomplete-multipart-uploads",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                "Status": "Enabled",
            },
            {"Id": "expire-exports", "Prefix": "exports/", "ExpirationInDays": 3, "Status": "Enabled"},
            {"Id": "expire-results", "Prefix": "results/", "ExpirationInDays": 3, "Status": "Enabled"},
            {"Id": "expire-logs", "Prefix": "logs/", "ExpirationInDays": 3, "Status": "Enabled"},
        ]
    }


def test_the_bucket_policy_refuses_every_request_without_tls(cdk_all_options: Synthesized):
    template = _template(cdk_all_options)
    template.resource_count_is("AWS::S3::BucketPolicy", 1)
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": Match.string_like_regexp("^ExportsBucket")},
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "s3:*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Resource": [BUCKET, {"Fn::Join": ["", [BUCKET, "/*"]]}],
                    }
                ],
                "Version": "2012-10-17",
            },
        },
    )


def test_the_application_runs_spark_on_emr_7_9_arm64_within_its_ceiling(cdk_all_options: Synthesized):
    # GIVEN exportMaxVcpu=64
    template = _template(cdk_all_options)
    # THEN one Spark application on emr-7.9.0, Graviton, starting on demand and stopping when idle
    template.resource_count_is("AWS::EMRServerless::Application", 1)
    template.has_resource_properties(
        "AWS::EMRServerless::Application",
        {
            "Name": "Users-export-check",
            "Type": "SPARK",
            "ReleaseLabel": "emr-7.9.0",
            "Architecture": "ARM64",
            "AutoStartConfiguration": {"Enabled": True},
            "AutoStopConfiguration": {"Enabled": True, "IdleTimeoutMinutes": 15},
            # AND it never holds more than 64 vCPUs (memory and disk follow: 8 and 50 GB per vCPU)
            "MaximumCapacity": {"Cpu": "64 vCPU", "Memory": "512 GB", "Disk": "3200 GB"},
            # AND its runs' logs go to the bucket's logs/ prefix
            "MonitoringConfiguration": {
                "S3MonitoringConfiguration": {
                    "LogUri": {
                        "Fn::Join": [
                            "",
                            ["s3://", {"Ref": Match.string_like_regexp("^ExportsBucket")}, "/logs/"],
                        ]
                    }
                }
            },
        },
    )
    # AND no pre-initialized capacity is billed while it waits
    props = _only(template, "AWS::EMRServerless::Application")["Properties"]
    assert "InitialCapacity" not in props


def test_emr_7_9s_spark_is_the_pinned_pyspark():
    # The job is tested locally on the pyspark of requirements/dev.txt; EMR 7.9.0 runs Spark 3.5.5.
    assert version("pyspark") == SPARK_VERSION == "3.5.5"


def test_only_emr_serverless_for_this_application_and_account_may_assume_the_job_role(
    cdk_all_options: Synthesized,
):
    template = _template(cdk_all_options)
    template.resource_count_is("AWS::IAM::Role", 1)
    application_arn = {"Fn::GetAtt": [Match.string_like_regexp("^SparkApplication"), "Arn"]}
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "emr-serverless.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": "111111111111"},
                            "ArnLike": {
                                "aws:SourceArn": [
                                    application_arn,
                                    {"Fn::Join": ["", [application_arn, "/*"]]},
                                ]
                            },
                        },
                    }
                ],
                "Version": "2012-10-17",
            },
            "ManagedPolicyArns": Match.absent(),
            "Policies": Match.absent(),
        },
    )


def test_the_job_role_reads_exports_and_code_writes_results_and_logs_and_nothing_else(
    cdk_all_options: Synthesized,
):
    template = _template(cdk_all_options)
    template.resource_count_is("AWS::IAM::Policy", 1)
    # THEN exactly these statements, each on its prefix of the one bucket
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "s3:GetObject",
                        "Effect": "Allow",
                        "Resource": [_objects("exports/"), _objects("code/")],
                    },
                    {
                        "Action": [
                            "s3:PutObject",
                            "s3:GetObject",
                            "s3:DeleteObject",
                            "s3:AbortMultipartUpload",
                        ],
                        "Effect": "Allow",
                        "Resource": _objects("results/"),
                    },
                    {"Action": "s3:PutObject", "Effect": "Allow", "Resource": _objects("logs/")},
                    {
                        "Action": "s3:ListBucket",
                        "Effect": "Allow",
                        "Resource": BUCKET,
                        "Condition": {"StringLike": {"s3:prefix": ["exports/*", "code/*", "results/*"]}},
                    },
                ],
                "Version": "2012-10-17",
            },
            "Roles": [{"Ref": Match.string_like_regexp("^SparkJobRole")}],
        },
    )
    # AND no DynamoDB, KMS or Glue action anywhere in the stack: the job reads only the exports
    text = json.dumps(template.to_json())
    for service in ("dynamodb:", "kms:", "glue:"):
        assert service not in text


def test_the_outputs_name_the_bucket_application_and_job_role(cdk_all_options: Synthesized):
    template = _template(cdk_all_options)
    assert sorted(template.to_json()["Outputs"]) == ["ApplicationId", "ExportBucketName", "JobRoleArn"]
    template.has_output("ExportBucketName", {"Value": {"Ref": Match.string_like_regexp("^ExportsBucket")}})
    template.has_output(
        "ApplicationId",
        {"Value": {"Fn::GetAtt": [Match.string_like_regexp("^SparkApplication"), "ApplicationId"]}},
    )
    template.has_output(
        "JobRoleArn", {"Value": {"Fn::GetAtt": [Match.string_like_regexp("^SparkJobRole"), "Arn"]}}
    )
