"""The usage-metrics consumer: aggregates each tumbling window of the stream into EMF metrics.

It needs no AWS access beyond reading the stream: metrics leave through its log output (EMF).
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_

from cdk.constructs.bundling import METRICS
from cdk.constructs.stream_consumer import ConsumerSettings
from deployconfig.config import DeploymentConfig


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
