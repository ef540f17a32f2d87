"""The replicator: its consumer settings, its environment and its access to the replica region."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from cdk.constructs.bundling import REPLICATOR
from cdk.constructs.stream_consumer import ConsumerSettings
from deployconfig.config import DeploymentConfig
from replicator.permissions import (
    ASSUME_REPLICA_ROLE_ACTIONS,
    REPLICA_TABLE_ACTIONS,
    STATE_TABLE_ACTIONS,
)


def replicator_settings(config: DeploymentConfig) -> ConsumerSettings:
    return ConsumerSettings(
        package=REPLICATOR,
        handler="replicator.handler.handler",
        function_name=config.replicator_function_name,
        failure_queue_name=config.failure_queue_name,
        memory_mb=config.replicator_memory_mb,
        timeout_seconds=config.replicator_timeout_seconds,
        # Every change still in the stream (24 hours) is replicated; what is older comes across
        # with `python -m replicator backfill`.
        starting_position=lambda_.StartingPosition.TRIM_HORIZON,
        description=f"Replicates {config.table_name} into {config.replica_region}",
        environment=config.replicator_environment(),
        # A fixed name: the replica account's role (replicaRoleArn) trusts it by ARN.
        role_name=config.replicator_role_name,
    )


def grant_replica_writes(grantee: iam.IGrantable, replica_table_arn: str, state_table_arn: str) -> None:
    """Write the replica and state tables directly (same account)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=list(REPLICA_TABLE_ACTIONS), resources=[replica_table_arn])
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=list(STATE_TABLE_ACTIONS), resources=[state_table_arn])
    )


def grant_assume_replica_role(grantee: iam.IGrantable, role_arn: str) -> None:
    """Reach the replica only through the configured role (another account)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=list(ASSUME_REPLICA_ROLE_ACTIONS), resources=[role_arn])
    )
