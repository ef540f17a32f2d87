"""Which alarms each region raises, and why at those thresholds.

Names are deterministic (``<table>-...``) so runbooks and e-mail filters can rely on them.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from cdk.constructs.monitoring import AlarmSpec, aws_metric, catalogue_metric
from deployconfig.config import DeploymentConfig
from telemetry import catalogue as c

MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)


def _function_alarms(config: DeploymentConfig, function: str, queue: str, what: str) -> dict[str, AlarmSpec]:
    prefix = "".join(part.title() for part in what.split())
    return {
        f"{prefix}IteratorAge": AlarmSpec(
            name=f"{function}-iterator-age",
            description=f"The {what} is more than {config.alarm_iterator_age_ms} ms behind the "
            "stream for 5 minutes: it is falling behind or stuck on a failing batch.",
            metric=aws_metric("AWS/Lambda", "IteratorAge", {"FunctionName": function}, "Maximum", MINUTE),
            threshold=config.alarm_iterator_age_ms,
            periods=5,
            datapoints=5,
        ),
        f"{prefix}Errors": AlarmSpec(
            name=f"{function}-errors",
            description=f"The {what} failed whole invocations (crash or timeout); Lambda bisects and "
            "retries the batch. Records it gave up on are in the failure queue.",
            metric=aws_metric("AWS/Lambda", "Errors", {"FunctionName": function}, "Sum", FIVE_MINUTES),
            threshold=1,
        ),
        f"{prefix}FailureQueue": AlarmSpec(
            name=f"{queue}-not-empty",
            description=f"Stream records the {what} gave up on (retries or record age exhausted) "
            "are waiting in the failure queue; see `python -m replicator redrive`.",
            metric=aws_metric(
                "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue}, "Maximum", FIVE_MINUTES
            ),
            threshold=1,
        ),
    }


def lag_or_iterator_age(config: DeploymentConfig) -> cw.MathExpression:
    """Per minute, the worse of the replication lag's p99 and the replicator's iterator age.

    ``ReplicationLagMs`` is published only for records the replicator applies. In a full stall
    (every invocation fails, or times out, while Lambda retries the same batch) nothing is applied
    and the lag series stops, which an alarm treating missing data as not breaching reads as "all
    is well". Lambda still publishes ``IteratorAge`` for each of those invocations: the age of the
    newest record of the batch it hands over, a lower bound on the lag of every record not yet
    applied. So the alarm watches the maximum of the two, with the lag filled with 0 where it has
    no data. An idle table publishes neither (no invocations): the expression has no data then
    and stays OK, instead of alarming on quiet minutes as "missing data is breaching" on the lag
    alone would. Both series are per minute, in the source region.
    """
    return cw.MathExpression(
        expression="MAX([FILL(lag, 0), age])",
        using_metrics={
            "lag": catalogue_metric(
                c.REPLICATION_LAG, config.replication_namespace, {c.TABLE: config.table_name}, "p99", MINUTE
            ),
            "age": aws_metric(
                "AWS/Lambda",
                "IteratorAge",
                {"FunctionName": config.replicator_function_name},
                "Maximum",
                MINUTE,
            ),
        },
        label="replication lag p99, or the iterator age when higher (ms)",
        period=MINUTE,
    )


def source_alarms(config: DeploymentConfig) -> dict[str, AlarmSpec]:
    """Alarms of the source region, where the functions run and publish their EMF metrics."""
    table = {c.TABLE: config.table_name}
    return {
        **_function_alarms(config, config.replicator_function_name, config.failure_queue_name, "replicator"),
        **_function_alarms(
            config, config.metrics_function_name, config.metrics_failure_queue_name, "usage metrics"
        ),
        "ReplicationLagP99": AlarmSpec(
            name=f"{config.table_name}-replication-lag-p99",
            description=f"99th percentile of source-change-to-replica-write time above "
            f"{config.alarm_lag_p99_ms} ms for 3 of 5 minutes, or, while nothing is applied (a "
            "stalled replicator publishes no lag), the replicator's iterator age above it.",
            metric=lag_or_iterator_age(config),
            threshold=config.alarm_lag_p99_ms,
            periods=5,
            datapoints=3,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        ),
        "UsageMergeErrors": AlarmSpec(
            name=f"{config.merge_function_name}-errors",
            description="The usage merge failed in 3 of 5 minutes: table-wide active users, DAU and "
            "MAU stop being published. A single failure needs nothing (the next run merges what is "
            "pending); the summaries wait in the usage table for 2 days.",
            metric=aws_metric(
                "AWS/Lambda", "Errors", {"FunctionName": config.merge_function_name}, "Sum", MINUTE
            ),
            threshold=1,
            periods=5,
            datapoints=3,
        ),
        "ReplicaThrottles": AlarmSpec(
            name=f"{config.table_name}-replica-write-throttled",
            description="Replica writes were throttled in 3 of 5 minutes (the replicator retries them "
            "with backoff; sustained throttling delays replication).",
            metric=catalogue_metric(c.REPLICA_THROTTLES, config.replication_namespace, table, "Sum", MINUTE),
            threshold=1,
            periods=5,
            datapoints=3,
        ),
    }


def replica_alarms(config: DeploymentConfig) -> dict[str, AlarmSpec]:
    """Alarms of the replica region: what DynamoDB itself reports about the replica table."""
    return {
        "ReplicaTableWriteThrottles": AlarmSpec(
            name=f"{config.replica_table_name}-replica-table-write-throttles",
            description="DynamoDB throttled writes to the replica table in 3 of 5 minutes.",
            metric=aws_metric(
                "AWS/DynamoDB",
                "WriteThrottleEvents",
                {"TableName": config.replica_table_name},
                "Sum",
                MINUTE,
            ),
            threshold=1,
            periods=5,
            datapoints=3,
        ),
    }
