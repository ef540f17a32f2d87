"""The source-region stack: the table and its stream, both consumers, alarms, the usage dashboard."""

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
from cdk.constructs.usage_metrics import metrics_settings
from deployconfig.config import DeploymentConfig
from telemetry.dashboards import USAGE_DASHBOARD


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
            f"{config.replica_region}, usage metrics), alarms and the usage dashboard",
            **kwargs,
        )
        region_key = region_key_of(
            self, table=config.table_name, side="source", enabled=config.customer_managed_key
        )
        key = region_key.key if region_key else None

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
        if config.replica_role_arn:
            grant_assume_replica_role(replication.role, config.replica_role_arn)
        else:
            grant_replica_writes(
                replication.role,
                self._replica_region_table_arn(config, config.replica_table_name),
                self._replica_region_table_arn(config, config.state_table_name),
            )

        monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            dashboard=USAGE_DASHBOARD,
            dashboard_name=config.usage_dashboard_name,
            key=key,
        )
        for alarm_id, spec in source_alarms(config).items():
            monitoring.add_alarm(alarm_id, spec)

        CfnOutput(self, "SourceTableName", value=table.table_name)
        CfnOutput(self, "StreamArn", value=table.stream_arn)
        CfnOutput(self, "ReplicatorFunctionName", value=config.replicator_function_name)
        CfnOutput(self, "FailureQueueUrl", value=replication.failure_queue.queue_url)
        CfnOutput(self, "MetricsFailureQueueUrl", value=usage.failure_queue.queue_url)
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(
            self, "UsageDashboardUrl", value=monitoring.dashboard_url, description="CloudWatch dashboard"
        )

    def _replica_region_table_arn(self, config: DeploymentConfig, name: str) -> str:
        # Built from configuration, not referenced: the replica stack is in another region.
        return self.format_arn(
            service="dynamodb",
            region=config.replica_region,
            account=config.replica_account or self.account,
            resource="table",
            resource_name=name,
        )
