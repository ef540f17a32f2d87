"""The export check's AWS side (issue 15; context ``exportCheck=true``): a bucket and a Spark service.

``ExportBucket`` holds, under the prefixes of :mod:`replicator.permissions`, the DynamoDB exports
the operator requests, the job's code the CLI uploads, the job's results and its logs.
``SparkApplication`` is the EMR Serverless application that runs ``jobs/export_compare.py`` and the
runtime role its job runs assume. The role reads the exports and the code and writes the results
and the logs, nothing else: no DynamoDB, no Glue catalog, no KMS (docs/deployment.md, "The export
check's stack").
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_emrserverless as emrserverless
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk.constructs.nag import acknowledge
from replicator.permissions import EXPORTS_PREFIX, LOGS_PREFIX, RESULTS_PREFIX

RELEASE_LABEL = "emr-7.9.0"
SPARK_VERSION = "3.5.5"
"""EMR 7.9.0's Spark: the pyspark pinned in requirements/dev.txt, so the job runs on the Spark it is
tested on (a test keeps the two equal)."""

# arm64 (Graviton): EMR Serverless bills it about 20% below x86 for the same vCPU and memory, and
# the job is JVM work plus pure Python (ddbstream, replicator.core, jobs) with no native wheel that
# would need an x86 build. The one thing built per architecture is a custom Python archive or
# image (docs/deployment.md): it must be built for linux/arm64.
ARCHITECTURE = "ARM64"

# EMR Serverless's default; with no pre-initialized capacity an idle started application costs
# nothing, and a comparison run right after another skips the start-up.
IDLE_TIMEOUT_MINUTES = 15

# The ceiling follows the vCPUs (context exportMaxVcpu): the memory and disk the largest worker
# shapes may have per vCPU (8 GB, and 200 GB of disk per 4-vCPU worker), so the vCPU limit, the
# cost driver, is the one that binds. EMR Serverless "Understanding application behavior",
# https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/app-behavior.html
MEMORY_GB_PER_VCPU = 8
DISK_GB_PER_VCPU = 50


class ExportBucket(Construct):
    """The bucket of exports, job code, results and logs, each prefix with its own lifecycle."""

    def __init__(self, scope: Construct, construct_id: str, *, retention_days: int) -> None:
        super().__init__(scope, construct_id)
        expire = Duration.days(retention_days)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            # SSE-S3, not KMS: DynamoDB writes an export with the requester's S3SseAlgorithm
            # (AES256 unless asked otherwise); a KMS key would need kms:GenerateDataKey for every
            # operator who requests an export, kms:Decrypt for the job role, a key id passed with
            # every export, and a KMS request per object read. The bucket is private (blocked
            # public access, TLS only, access through IAM alone) and its objects live for days.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # No versioning: every object is derived and written once under a fresh name (an
            # export id, a run id, a content hash); a lost export is requested again from PITR.
            # Versions would keep deleted terabyte exports (and the job's temporary files)
            # billed after the lifecycle rule expires them.
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                # Exports are full copies of the table: they go after retention_days, with the
                # results and logs of the comparisons that read them. The code prefix is not
                # expired: a few hundred kilobytes per code version, and an object expiring
                # under a running job would fail the executors that fetch it late.
                *(
                    s3.LifecycleRule(id=f"expire-{prefix.rstrip('/')}", prefix=prefix, expiration=expire)
                    for prefix in (EXPORTS_PREFIX, RESULTS_PREFIX, LOGS_PREFIX)
                ),
            ],
            # Kept by `make destroy` (CloudFormation cannot delete a bucket with objects in it);
            # the lifecycle rules empty all but the code prefix within retention_days.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds short-lived exports and comparison results that only the job role and "
            "the operator's own identity can read; who read or wrote which object is recorded by "
            "CloudTrail S3 data events where the account enables them, and a log bucket of its own "
            "would be one more bucket without access logs that outlives the data it audits.",
        )

    def arn_of(self, prefix: str) -> str:
        """The ARN of every object under ``prefix`` (one of replicator.permissions' prefixes)."""
        return self.bucket.arn_for_objects(f"{prefix}*")

    @property
    def log_uri(self) -> str:
        return self.bucket.s3_url_for_object(LOGS_PREFIX)


class SparkApplication(Construct):
    """An EMR Serverless Spark application and the runtime role its job runs assume."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, max_vcpu: int, log_uri: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.application = emrserverless.CfnApplication(
            self,
            "Application",
            name=name,
            release_label=RELEASE_LABEL,
            type="SPARK",
            architecture=ARCHITECTURE,
            auto_start_configuration=emrserverless.CfnApplication.AutoStartConfigurationProperty(
                enabled=True
            ),
            auto_stop_configuration=emrserverless.CfnApplication.AutoStopConfigurationProperty(
                enabled=True, idle_timeout_minutes=IDLE_TIMEOUT_MINUTES
            ),
            maximum_capacity=emrserverless.CfnApplication.MaximumAllowedResourcesProperty(
                cpu=f"{max_vcpu} vCPU",
                memory=f"{max_vcpu * MEMORY_GB_PER_VCPU} GB",
                disk=f"{max_vcpu * DISK_GB_PER_VCPU} GB",
            ),
            # Driver and executor logs go to the bucket (with the job's role) as well as to EMR
            # Serverless's managed storage (on by default, 30 days, behind the Spark UI), so an
            # operator can read a failed run's stderr with `aws s3 cp`.
            monitoring_configuration=emrserverless.CfnApplication.MonitoringConfigurationProperty(
                s3_monitoring_configuration=emrserverless.CfnApplication.S3MonitoringConfigurationProperty(
                    log_uri=log_uri
                )
            ),
        )
        stack = Stack.of(self)
        # Only EMR Serverless, on behalf of this application in this account, may assume the role
        # (cross-service confused deputy prevention). The service gives the application's ARN as
        # aws:SourceArn; anything under it (a job run) is this application's too.
        self.job_role = iam.Role(
            self,
            "JobRole",
            description=f"Runtime role of the job runs of EMR Serverless application {name}",
            assumed_by=iam.ServicePrincipal(
                "emr-serverless.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": [self.application.attr_arn, f"{self.application.attr_arn}/*"]
                    },
                },
            ),
        )

    @property
    def application_id(self) -> str:
        return self.application.attr_application_id
