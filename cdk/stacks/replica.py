"""The replica-region stack: replica and state tables, the optional writer role, alarms.

It references nothing of the source stack and is deployed first: the replicator finds its tables
by the names in the configuration, so no cross-region reference (and none of the custom
resources ``crossRegionReferences`` deploys, which can leave stacks stuck) is needed.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk.constructs.alarms import replica_alarms
from cdk.constructs.keys import region_key as region_key_of
from cdk.constructs.monitoring import Monitoring
from cdk.constructs.table import ReplicaTables
from deployconfig.config import DeploymentConfig
from replicator.permissions import REPLICA_TABLE_ACTIONS, STATE_TABLE_ACTIONS


class ReplicaStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=config.replica_stack_name,
            env=Environment(account=config.replica_account, region=config.replica_region),
            description=f"{config.table_name}: replica of the {config.source_region} table, the "
            "replicator's state table and replica alarms",
            **kwargs,
        )
        region_key = region_key_of(
            self, table=config.table_name, side="replica", enabled=config.customer_managed_key
        )
        if region_key:
            region_key.allow_dynamodb_callers(config.replica_region)
        key = region_key.key if region_key else None

        tables = ReplicaTables(self, "Tables", config=config, key=key)
        if config.replica_role_arn:
            self._writer_role(config, tables)

        # The replication dashboard is the source stack's: almost all its series are published
        # in the source account, which a replica in another account cannot read unless shared.
        monitoring = Monitoring(self, "Monitoring", config=config, key=key)
        for alarm_id, spec in replica_alarms(config).items():
            monitoring.add_alarm(alarm_id, spec)

        CfnOutput(self, "ReplicaTableName", value=tables.replica.table_name)
        CfnOutput(self, "ReplicaTableArn", value=tables.replica.table_arn)
        CfnOutput(self, "StateTableName", value=tables.state.table_name)
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)

    def _writer_role(self, config: DeploymentConfig, tables: ReplicaTables) -> iam.Role:
        """The role ``replicaRoleArn`` names, for a replica in another account than the source.

        It trusts the source account only for the replicator's role, matched by ARN in a
        condition: a role principal in a trust policy must already exist, and the replicator's
        role is created later, by the source stack.
        """
        assert config.account and config.replica_role_name  # checked by the configuration
        replicator_role_arn = f"arn:{Aws.PARTITION}:iam::{config.account}:role/{config.replicator_role_name}"
        role = iam.Role(
            self,
            "ReplicaWriterRole",
            role_name=config.replica_role_name,
            path=config.replica_role_path,
            assumed_by=iam.AccountPrincipal(config.account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": replicator_role_arn}}
            ),
            description=f"Assumed by {config.replicator_function_name} to write the replica",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(REPLICA_TABLE_ACTIONS), resources=[tables.replica.table_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(STATE_TABLE_ACTIONS), resources=[tables.state.table_arn])
        )
        CfnOutput(self, "ReplicaWriterRoleArn", value=role.role_arn)
        return role
