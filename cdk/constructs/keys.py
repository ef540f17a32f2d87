"""The optional customer-managed KMS key of a region (context ``customerManagedKey=true``).

One key per region encrypts that region's tables, failure queues and alarm topic. It is
retained when a stack is deleted: the retained tables cannot be read without it.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

_DYNAMODB_KEY_USE = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
    "kms:CreateGrant",
)


class RegionKey(Construct):
    """A rotating customer-managed key with the key-policy statements its users need."""

    def __init__(self, scope: Construct, construct_id: str, *, alias: str, description: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description=description,
            enable_key_rotation=True,
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )

    def allow_dynamodb_callers(self, region: str) -> None:
        """Let principals of this account use the key only through DynamoDB in ``region``.

        This is the key policy AWS documents for tables with customer-managed keys. It lets a
        writer in this account (the replicator, or the role it assumes) use the key through
        DynamoDB without an IAM statement naming the key, whose id is random and unknown to the
        other region's stack. Principals still need DynamoDB permissions on the table itself.
        """
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowUseThroughDynamoDBInThisAccount",
                principals=[iam.AnyPrincipal()],
                actions=list(_DYNAMODB_KEY_USE),
                # In a key policy "*" means this key and nothing else.
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:CallerAccount": Aws.ACCOUNT_ID,
                        "kms:ViaService": f"dynamodb.{region}.amazonaws.com",
                    }
                },
            )
        )

    def allow_cloudwatch_alarms(self) -> None:
        """CloudWatch alarms publish to an encrypted SNS topic only if the key lets them."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )


def region_key(scope: Stack, *, table: str, side: str, enabled: bool) -> RegionKey | None:
    """The region's key when ``customerManagedKey`` is on (alias ``<table>-replication-<side>``)."""
    if not enabled:
        return None
    key = RegionKey(
        scope,
        "Encryption",
        alias=f"alias/{table}-replication-{side}",
        description=f"Encrypts {table} replication data in the {side} region: tables, queues, alarm topic",
    )
    key.allow_cloudwatch_alarms()
    return key
