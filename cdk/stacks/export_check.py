"""The optional export-check stack (context ``exportCheck=true``), in the source region: the bucket
the exports go to, the EMR Serverless application that compares them, and its job role.

It depends on neither table stack: the operator requests the exports with their own identity
(docs/deployment.md, "The export check's stack"), and the job reads only what is in the bucket.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnElement, CfnOutput, Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk.constructs.export_check import ExportBucket, SparkApplication
from cdk.constructs.nag import acknowledge
from deployconfig.config import DeploymentConfig
from replicator.permissions import (
    CODE_PREFIX,
    EXPORT_JOB_LIST_ACTIONS,
    EXPORT_JOB_LOG_ACTIONS,
    EXPORT_JOB_READ_ACTIONS,
    EXPORT_JOB_WRITE_ACTIONS,
    EXPORTS_PREFIX,
    LOGS_PREFIX,
    RESULTS_PREFIX,
)


class ExportCheckStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=config.export_check_stack_name,
            env=Environment(account=config.account, region=config.source_region),
            description=f"{config.table_name}: the export check's bucket, EMR Serverless application "
            "and job role (compares point-in-time exports of the source and replica tables)",
            **kwargs,
        )
        exports = ExportBucket(self, "Exports", retention_days=config.export_retention_days)
        spark = SparkApplication(
            self,
            "Spark",
            name=config.export_application_name,
            max_vcpu=config.export_max_vcpu,
            log_uri=exports.log_uri,
        )
        for actions, prefixes in (
            (EXPORT_JOB_READ_ACTIONS, (EXPORTS_PREFIX, CODE_PREFIX)),
            (EXPORT_JOB_WRITE_ACTIONS, (RESULTS_PREFIX,)),
            (EXPORT_JOB_LOG_ACTIONS, (LOGS_PREFIX,)),
        ):
            spark.job_role.add_to_policy(
                iam.PolicyStatement(
                    actions=list(actions), resources=[exports.arn_of(prefix) for prefix in prefixes]
                )
            )
            self._acknowledge_prefixes(spark.job_role, exports, prefixes)
        listed = (EXPORTS_PREFIX, CODE_PREFIX, RESULTS_PREFIX)
        spark.job_role.add_to_policy(
            iam.PolicyStatement(
                actions=list(EXPORT_JOB_LIST_ACTIONS),
                resources=[exports.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in listed]}},
            )
        )

        CfnOutput(self, "ExportBucketName", value=exports.bucket.bucket_name)
        CfnOutput(self, "ApplicationId", value=spark.application_id)
        CfnOutput(self, "JobRoleArn", value=spark.job_role.role_arn)
        self.bucket = exports.bucket
        self.spark = spark

    def _acknowledge_prefixes(
        self, role: iam.IRole, exports: ExportBucket, prefixes: tuple[str, ...]
    ) -> None:
        # cdk-nag names each wildcard resource by the bucket's logical id; one acknowledgement per
        # prefix, so a grant on the whole bucket ("<bucket>/*") would still be a finding.
        bucket = exports.bucket.node.default_child
        assert isinstance(bucket, CfnElement)
        bucket_id = self.resolve(bucket.logical_id)
        for prefix in prefixes:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                f"The job role's grant ends in a wildcard only after the {prefix!r} prefix of the "
                "export bucket: the objects there are named by DynamoDB's export ids, the job's run "
                "ids and content hashes, unknown when the stack is deployed.",
            )
