"""Usage metrics: the consumer's settings, the usage table, and the merge function on its schedule.

The consumer aggregates each tumbling window of the stream into EMF metrics and stores each
closing window's summary in the usage table; the merge function unions the summaries every minute
into table-wide, hourly, daily and monthly distinct users and publishes them as EMF
(docs/metrics.md, "Table-wide active users"). Metrics leave both functions through their logs.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.constructs.bundling import METRICS
from cdk.constructs.function import FunctionSpec, acknowledge_runtime, logged_function
from cdk.constructs.nag import acknowledge
from cdk.constructs.stream_consumer import ConsumerSettings
from deployconfig.config import DeploymentConfig
from metrics import schema

# Exactly the requests each function makes of the usage table (tests/integration/
# test_metrics_usage_iam.py records them): the consumer writes a summary and its minute's pending
# marker; the merge reads markers and summaries (Query), merged items (GetItem, BatchGetItem),
# writes merged items and its progress, and deletes markers.
SUMMARY_ACTIONS = ("dynamodb:PutItem",)
MERGE_ACTIONS = (
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
)


def metrics_settings(config: DeploymentConfig) -> ConsumerSettings:
    return ConsumerSettings(
        package=METRICS,
        handler="metrics.handler.handler",
        function_name=config.metrics_function_name,
        failure_queue_name=config.metrics_failure_queue_name,
        memory_mb=config.metrics_memory_mb,
        timeout_seconds=config.metrics_timeout_seconds,
        # Usage metrics describe the present: replaying a day of history on the first deploy
        # would pile it into the first minutes of the dashboards.
        starting_position=lambda_.StartingPosition.LATEST,
        description=f"Usage metrics of {config.table_name} (EMF)",
        environment=config.metrics_environment(),
        tumbling_window_seconds=config.tumbling_window_seconds,
        # One batch at a time per shard, so one window state sees every record of the shard:
        # the distinct-user counts of concurrent batches could not be combined afterwards.
        parallelization_factor=1,
    )


class UsageTable(Construct):
    """The usage table: window summaries and merged distinct-user sketches (hashed ids only)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, key: kms.IKey | None
    ) -> None:
        super().__init__(scope, construct_id)
        encryption = (
            {"encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED, "encryption_key": key}
            if key is not None
            else {"encryption": dynamodb.TableEncryption.AWS_MANAGED}
        )
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=config.usage_table_name,
            partition_key=dynamodb.Attribute(name=schema.PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=schema.SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # Minute items go after 2 days, hours after 3, days after 35 (metrics/periods.py):
            # storage stays bounded whatever the table's age.
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            # PITR on: the day sketches behind MonthlyActiveUsers cannot be rebuilt from the stream
            # (it keeps 24 hours), so a bad merge or a deleted item would leave MAU short for 30
            # days; restoring costs a table swap, keeping PITR cents a month at this size.
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Deleted with the stack, unlike the source, replica and state tables: it holds
            # derived metrics, not user data; MAU rebuilds itself within 30 days of a new deploy;
            # and keeping hashed user ids after the system is gone serves no one. (A retained
            # table would also make the next deploy fail on "already exists".)
            removal_policy=RemovalPolicy.DESTROY,
            deletion_protection=False,
            **encryption,
        )

    def statement(self, actions: tuple[str, ...]) -> iam.PolicyStatement:
        """``actions`` on this table only (no index, no stream: it has neither)."""
        return iam.PolicyStatement(actions=list(actions), resources=[self.table.table_arn])

    def grant(self, grantee: iam.IGrantable, actions: tuple[str, ...]) -> None:
        grantee.grant_principal.add_to_principal_policy(self.statement(actions))


class UsageMerge(Construct):
    """The merge function, run every minute: window summaries -> table-wide figures (EMF)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        usage: UsageTable,
    ) -> None:
        super().__init__(scope, construct_id)
        name = config.merge_function_name
        made = logged_function(
            self,
            FunctionSpec(
                name=name,
                description=f"Merges the usage window summaries of {config.table_name} every minute (EMF)",
                handler="metrics.merge.handler",
                package=METRICS,
                memory_mb=config.merge_memory_mb,
                timeout_seconds=config.merge_timeout_seconds,
                log_retention_days=config.log_retention_days,
                environment=config.merge_environment(),
                # One run at a time: two would only repeat each other's unions (their conditional
                # writes keep the result right, at the cost of retries).
                reserved_concurrency=1,
            ),
            statements=[usage.statement(MERGE_ACTIONS)],
        )
        self.log_group, self.role, self.function = made.log_group, made.role, made.function
        # A failed or late run needs no retry: the next run merges every minute still pending.
        self.function.configure_async_invoke(retry_attempts=0, max_event_age=Duration.minutes(2))
        self.schedule = events.Rule(
            self,
            "EveryMinute",
            description=f"Runs {name}: each minute's figures within about 2 minutes of its end",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=0)],
        )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        acknowledge_runtime(self.function)
        nothing_to_replay = (
            "The function is invoked by its one-minute schedule only, and a failed run loses "
            "nothing: every minute it did not merge stays pending in the usage table and the next "
            "run merges it. A dead-letter queue or failure destination would collect scheduled "
            "events that carry nothing to replay."
        )
        for rule in ("Serverless-LambdaDLQ", "Serverless-LambdaAsyncFailureDestination"):
            acknowledge(self.function, rule, nothing_to_replay)
        acknowledge(self.schedule, "Serverless-EventBusDLQ", nothing_to_replay)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Only xray:PutTraceSegments and xray:PutTelemetryRecords have Resource '*': X-Ray "
            "supports no resource-level permissions. Every DynamoDB action names the usage table "
            "and the log actions name the function's own log group.",
        )
