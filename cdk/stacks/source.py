"""The source-region stack: the table and its stream, both consumers, the usage table and its merge
function, alarms, both dashboards."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from cdk.constructs.alarms import source_alarms
from cdk.constructs.keys import region_key as region_key_of
from cdk.constructs.monitoring import Monitoring
from cdk.constructs.replication import grant_assume_replica_role, grant_replica_writes, replicator_settings
from cdk.constructs.stream_consumer import StreamConsumer
from cdk.constructs.table import SourceTable
from cdk.constructs.usage_metrics import SUMMARY_ACTIONS, UsageMerge, UsageTable, metrics_settings
from deployconfig.config import DeploymentConfig
from telemetry.dashboards import REPLICATION_DASHBOARD, USAGE_DASHBOARD


class SourceStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=config.source_stack_name,
            env=Environment(account=config.account, region=config.source_region),
            description=f"{config.table_name}: source table stream consumers (replication to "
            f"{config.replica_region}, usage metrics), usage table and merge, alarms and dashboards",
            **kwargs,
        )
        region_key = region_key_of(
            self, table=config.table_name, side="source", enabled=config.customer_managed_key
        )
        key = region_key.key if region_key else None
        if region_key:
            # The usage table is under this key too: its writers use it through DynamoDB, as the
            # replica region's writers do (cdk/constructs/keys.py).
            region_key.allow_dynamodb_callers(config.source_region)

        table = SourceTable(self, "Source", config=config, key=key)
        replication = StreamConsumer(
            self,
            "Replicator",
            config=config,
            settings=replicator_settings(config),
            stream_arn=table.stream_arn,
            key=key,
        )
        usage = StreamConsumer(
            self,
            "UsageMetrics",
            config=config,
            settings=metrics_settings(config),
            stream_arn=table.stream_arn,
            key=key,
        )
        for consumer in (replication, usage):
            table.grant_stream_read(consumer.role)
        usage_table = UsageTable(self, "UsageTable", config=config, key=key)
        usage_table.grant(usage.role, SUMMARY_ACTIONS)
        merge = UsageMerge(self, "UsageMerge", config=config, usage=usage_table)
        if config.replica_role_arn:
            grant_assume_replica_role(replication.role, config.replica_role_arn)
        else:
            grant_replica_writes(
                replication.role,
                self._replica_region_table_arn(config, config.replica_table_name),
                self._replica_region_table_arn(config, config.state_table_name),
            )

        monitoring = Monitoring(self, "Monitoring", config=config, key=key)
        # "Dashboard" is the usage dashboard's id since before the replication dashboard moved here.
        usage_url = monitoring.add_dashboard("Dashboard", USAGE_DASHBOARD, config.usage_dashboard_name)
        # The replication dashboard lives here, in the source account and region, with the
        # replicator whose EMF, Lambda and SQS series it draws; only the replica table's throttling
        # is read from the replica region (and account: docs/deployment.md, "Dashboards and alarms
        # across regions and accounts").
        replication_url = monitoring.add_dashboard(
            "ReplicationDashboard", REPLICATION_DASHBOARD, config.replication_dashboard_name
        )
        for alarm_id, spec in source_alarms(config).items():
            monitoring.add_alarm(alarm_id, spec)

        CfnOutput(self, "SourceTableName", value=table.table_name)
        CfnOutput(self, "StreamArn", value=table.stream_arn)
        CfnOutput(self, "ReplicatorFunctionName", value=config.replicator_function_name)
        CfnOutput(self, "FailureQueueUrl", value=replication.failure_queue.queue_url)
        CfnOutput(self, "MetricsFailureQueueUrl", value=usage.failure_queue.queue_url)
        CfnOutput(self, "UsageTableName", value=usage_table.table.table_name)
        CfnOutput(self, "UsageMergeFunctionName", value=merge.function.function_name)
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(self, "UsageDashboardUrl", value=usage_url, description="CloudWatch dashboard")
        CfnOutput(self, "ReplicationDashboardUrl", value=replication_url, description="CloudWatch dashboard")

    def _replica_region_table_arn(self, config: DeploymentConfig, name: str) -> str:
        # Built from configuration, not referenced: the replica stack is in another region.
        return self.format_arn(
            service="dynamodb",
            region=config.replica_region,
            account=config.replica_account or self.account,
            resource="table",
            resource_name=name,
        )
