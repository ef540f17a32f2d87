"""The two CloudWatch dashboards, as plain data.

The CDK app turns these into ``aws_cloudwatch`` widgets and the local runtime renders the very
same definitions to PNG, so the dashboards seen after ``make demo`` are the ones ``cdk deploy``
creates. Templates carry ``{placeholders}``; :func:`resolve` fills them from a deployment's
:class:`DashboardContext` and expands per-segment and per-attribute series.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace

from telemetry import catalogue as c


@dataclass(frozen=True, slots=True)
class Series:
    """One line on a graph: a metric identity plus how to aggregate it."""

    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    label: str
    region: str = "{source_region}"
    period_seconds: int = 60


@dataclass(frozen=True, slots=True)
class Graph:
    title: str
    series: tuple[Series, ...]
    left_label: str = ""
    width: int = 8
    height: int = 6


@dataclass(frozen=True, slots=True)
class Dashboard:
    key: str
    title: str
    region: str
    graphs: tuple[Graph, ...]


@dataclass(frozen=True, slots=True)
class DashboardContext:
    """Names a deployment gives to the placeholders in the templates."""

    source_region: str
    replica_region: str
    table: str
    replica_table: str
    replicator_function: str
    metrics_function: str
    failure_queue: str
    replication_namespace: str = c.DEFAULT_REPLICATION_NAMESPACE
    usage_namespace: str = c.DEFAULT_USAGE_NAMESPACE
    segments: tuple[str, ...] = ()
    tracked_attributes: tuple[str, ...] = ()


REPL = "{replication_namespace}"
USAGE = "{usage_namespace}"
TABLE_DIM = (c.TABLE, "{table}")


def _s(namespace: str, metric: str, stat: str, label: str, *dims: tuple[str, str]) -> Series:
    """A series of one of our own namespaces: always dimensioned by the source table."""
    return Series(namespace, metric, (TABLE_DIM, *dims), stat, label)


def _lambda(metric: str, stat: str, function: str, label: str) -> Series:
    return Series("AWS/Lambda", metric, (("FunctionName", function),), stat, label)


REPLICATION_DASHBOARD = Dashboard(
    key="replication",
    title="Replication {table} {source_region} -> {replica_region}",
    region="{replica_region}",
    graphs=(
        Graph(
            "Records replicated / s by operation",
            tuple(
                _s(REPL, c.RECORDS_REPLICATED.name, "Sum", op, (c.OPERATION, op))
                for op in ("INSERT", "MODIFY", "REMOVE")
            ),
            "records per minute",
        ),
        Graph(
            "Records skipped (stale, duplicate, superseded)",
            tuple(
                _s(REPL, c.RECORDS_SKIPPED.name, "Sum", reason.value, (c.SKIP_REASON, reason.value))
                for reason in c.SkipReason
            ),
            "records",
        ),
        Graph(
            "Records failed by error class",
            (
                _s(REPL, c.RECORDS_FAILED.name, "Sum", "all"),
                _s(REPL, c.RECORDS_FAILED.name, "Sum", "{error_class}", (c.ERROR_CLASS, "{error_class}")),
            ),
            "records",
        ),
        Graph(
            "Replication lag",
            tuple(_s(REPL, c.REPLICATION_LAG.name, stat, stat) for stat in ("p50", "p99", "Maximum")),
            "ms",
        ),
        Graph(
            "Stream iterator age (replicator)",
            (_lambda("IteratorAge", "Maximum", "{replicator_function}", "max"),),
            "ms",
        ),
        Graph(
            "Replicator errors and throttles",
            (
                _lambda("Errors", "Sum", "{replicator_function}", "errors"),
                _lambda("Throttles", "Sum", "{replicator_function}", "throttles"),
            ),
            "invocations",
        ),
        Graph(
            "Replicator duration",
            (
                _lambda("Duration", "Average", "{replicator_function}", "avg"),
                _lambda("Duration", "Maximum", "{replicator_function}", "max"),
            ),
            "ms",
        ),
        Graph(
            "Failure queue depth",
            (
                Series(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", "{failure_queue}"),),
                    "Maximum",
                    "messages",
                ),
            ),
            "messages",
        ),
        Graph(
            "Replica write throttling",
            (
                _s(REPL, c.REPLICA_THROTTLES.name, "Sum", "throttled attempts (replicator)"),
                _s(REPL, c.REPLICA_WRITES.name, "Sum", "conditional writes"),
                Series(
                    "AWS/DynamoDB",
                    "WriteThrottleEvents",
                    (("TableName", "{replica_table}"),),
                    "Sum",
                    "replica table write throttle events",
                    region="{replica_region}",
                ),
            ),
            "requests",
        ),
    ),
)

USAGE_DASHBOARD = Dashboard(
    key="usage",
    title="Usage {table} ({source_region})",
    region="{source_region}",
    graphs=(
        Graph(
            "Changes by type",
            (
                *(
                    _s(USAGE, c.ITEM_CHANGES.name, "Sum", name, (c.EVENT_NAME, name))
                    for name in ("INSERT", "MODIFY", "REMOVE")
                ),
                _s(USAGE, c.TTL_DELETES.name, "Sum", "TTL deletes"),
            ),
            "changes per minute",
        ),
        Graph(
            "Active users (per minute)",
            (
                _s(USAGE, c.ACTIVE_USERS.name, "Maximum", "all"),
                _s(USAGE, c.ACTIVE_USERS.name, "Maximum", "{segment}", (c.SEGMENT, "{segment}")),
            ),
            "users",
        ),
        Graph(
            "Changes by segment",
            (_s(USAGE, c.ITEM_CHANGES.name, "Sum", "{segment}", (c.SEGMENT, "{segment}")),),
            "changes per minute",
        ),
        Graph(
            "Attribute changes",
            (
                _s(
                    USAGE,
                    c.ATTRIBUTE_CHANGES.name,
                    "Sum",
                    "{attribute} {change_type}",
                    (c.ATTRIBUTE, "{attribute}"),
                    (c.CHANGE_TYPE, "{change_type}"),
                ),
            ),
            "changes per minute",
        ),
        Graph(
            "Item size",
            tuple(_s(USAGE, c.ITEM_SIZE.name, stat, stat) for stat in ("p50", "p99", "Maximum")),
            "bytes",
        ),
        Graph(
            "Freshness (change lag)",
            tuple(_s(USAGE, c.CHANGE_LAG.name, stat, stat) for stat in ("p50", "p99", "Maximum")),
            "ms",
        ),
        Graph(
            "Malformed records",
            (_s(USAGE, c.MALFORMED_RECORDS.name, "Sum", "malformed"),),
            "records",
        ),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (REPLICATION_DASHBOARD, USAGE_DASHBOARD)


def _fill(text: str, values: dict[str, str]) -> str:
    return text.format_map(values) if "{" in text else text


def _expansions(series: Series, ctx: DashboardContext) -> Iterable[dict[str, str]]:
    text = " ".join([series.label, *(value for _, value in series.dimensions)])
    segments = (*ctx.segments, c.OTHER_SEGMENT) if "{segment}" in text else (None,)
    attributes = ctx.tracked_attributes if "{attribute}" in text else (None,)
    change_types = tuple(t.value for t in c.ChangeType) if "{change_type}" in text else (None,)
    error_classes = c.ERROR_CLASSES if "{error_class}" in text else (None,)
    for segment, attribute, change_type, error_class in itertools.product(
        segments, attributes, change_types, error_classes
    ):
        extra = {
            "segment": segment,
            "attribute": attribute,
            "change_type": change_type,
            "error_class": error_class,
        }
        yield {k: v for k, v in extra.items() if v is not None}


def resolve(dashboard: Dashboard, ctx: DashboardContext) -> Dashboard:
    """Fill every placeholder; per-segment and per-attribute series become one series per value."""
    base = {
        "source_region": ctx.source_region,
        "replica_region": ctx.replica_region,
        "table": ctx.table,
        "replica_table": ctx.replica_table,
        "replicator_function": ctx.replicator_function,
        "metrics_function": ctx.metrics_function,
        "failure_queue": ctx.failure_queue,
        "replication_namespace": ctx.replication_namespace,
        "usage_namespace": ctx.usage_namespace,
    }
    graphs = []
    for graph in dashboard.graphs:
        series = []
        for template in graph.series:
            for extra in _expansions(template, ctx):
                values = {**base, **extra}
                series.append(
                    replace(
                        template,
                        namespace=_fill(template.namespace, values),
                        dimensions=tuple((n, _fill(v, values)) for n, v in template.dimensions),
                        label=_fill(template.label, values),
                        region=_fill(template.region, values),
                    )
                )
        graphs.append(replace(graph, title=_fill(graph.title, base), series=tuple(series)))
    return replace(
        dashboard,
        title=_fill(dashboard.title, base),
        region=_fill(dashboard.region, base),
        graphs=tuple(graphs),
    )
