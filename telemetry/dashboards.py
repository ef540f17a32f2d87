"""The two CloudWatch dashboards, as plain data.

The CDK app turns these into ``aws_cloudwatch`` widgets and the local runtime renders the very
same definitions to PNG, so the dashboards seen after ``make demo`` are the ones ``cdk deploy``
creates. Templates carry ``{placeholders}``; :func:`resolve` fills them from a deployment's
:class:`DashboardContext` and expands per-segment and per-attribute series.

Each series names the region and the account it is published in: the replicator's EMF, Lambda
and SQS series are the source's, the replica table's throttling the replica's. Both dashboards
live in the source account and region, where almost all of their series are (docs/deployment.md,
"Dashboards and alarms across regions and accounts").

Every title says exactly what is plotted: the statistic and the period it is taken over
(``{period}``, filled by :func:`resolve` from the period the graph is drawn at: "minute" when
deployed, possibly "second" in a short local run), or the tumbling window (``{window}``).

A graph draws metric series, and may draw :class:`Ratio` lines (one series divided by another,
period by period: metric math in CloudWatch, computed by the local renderer itself) and
:class:`Reference` lines (a fixed value to compare with).
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
    account: str = "{source_account}"
    """The account the series is published in (empty when the deployment does not name it)."""


@dataclass(frozen=True, slots=True)
class Ratio:
    """A line of one series divided by another, period by period (CloudWatch: ``n / d`` metric math).

    A period without a value of either series, or where the denominator is 0, has no point.
    """

    label: str
    numerator: Series
    denominator: Series

    @property
    def stat(self) -> str:
        """What each point is, for styling and reading: e.g. "Sum/Sum"."""
        return f"{self.numerator.stat}/{self.denominator.stat}"


@dataclass(frozen=True, slots=True)
class Reference:
    """A horizontal line at a fixed value, to compare the graph's lines with."""

    label: str
    value: float


@dataclass(frozen=True, slots=True)
class Graph:
    title: str
    series: tuple[Series, ...]
    left_label: str = ""
    width: int = 8
    height: int = 6
    per_window: bool = False
    """Each value holds for a whole tumbling window (drawn as steps where the renderer can)."""
    step_seconds: int = 0
    """Each value holds this long (60: a figure per minute, drawn as steps); 0: a point in time."""
    ratios: tuple[Ratio, ...] = ()
    """Lines computed from two series each, drawn after :attr:`series`."""
    references: tuple[Reference, ...] = ()

    @property
    def lines(self) -> tuple[Series | Ratio, ...]:
        """What is drawn, in legend order: the series, then the ratios."""
        return (*self.series, *self.ratios)

    @property
    def inputs(self) -> tuple[Series, ...]:
        """Every metric series the graph reads: its series, then each ratio's numerator and denominator."""
        return (
            *self.series,
            *(part for ratio in self.ratios for part in (ratio.numerator, ratio.denominator)),
        )


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
    window_seconds: int = 60
    """The usage-metrics consumer's tumbling window (ActiveUsers is counted per window)."""
    source_account: str = ""
    """The source account, "" when not named (a series then belongs to the dashboard's account)."""
    replica_account: str = ""
    """The replica's account (the one holding ``replicaRoleArn``), "" when not named."""


def period_text(seconds: int) -> str:
    """A period as a title says it: 60 -> "minute", 1 -> "second", 300 -> "5 minutes"."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    raise ValueError(f"a period is a whole number of seconds; got {seconds!r}")


REPL = "{replication_namespace}"
USAGE = "{usage_namespace}"
TABLE_DIM = (c.TABLE, "{table}")


def _s(namespace: str, metric: str, stat: str, label: str, *dims: tuple[str, str]) -> Series:
    """A series of one of our own namespaces: always dimensioned by the source table."""
    return Series(namespace, metric, (TABLE_DIM, *dims), stat, label)


def _lambda(metric: str, stat: str, function: str, label: str) -> Series:
    return Series("AWS/Lambda", metric, (("FunctionName", function),), stat, label)


def _users_graph(
    spec: c.MetricSpec, title: str, *, step_seconds: int = 0, left_label: str = "distinct users"
) -> Graph:
    """A figure of the merge function: the table's total and each segment's.

    Maximum, because a minute's figure is published again, larger, when a late window summary of
    it arrives (metrics/merge.py): the largest value is the complete one.
    """
    return Graph(
        title,
        (
            _s(USAGE, spec.name, "Maximum", "all"),
            _s(USAGE, spec.name, "Maximum", "{segment}", (c.SEGMENT, "{segment}")),
        ),
        left_label,
        step_seconds=step_seconds,
    )


REPLICATION_DASHBOARD = Dashboard(
    key="replication",
    title="Replication {table} {source_region} -> {replica_region}",
    region="{source_region}",
    graphs=(
        Graph(
            "Records replicated per {period}, by operation (Sum)",
            tuple(
                _s(REPL, c.RECORDS_REPLICATED.name, "Sum", op, (c.OPERATION, op))
                for op in ("INSERT", "MODIFY", "REMOVE")
            ),
            "records per {period}",
        ),
        Graph(
            "Replica write and read units per replicated change, per {period} (Sum / Sum)",
            (),
            "capacity units per change",
            ratios=tuple(
                Ratio(
                    f"{units} per change",
                    _s(REPL, spec.name, "Sum", units),
                    _s(REPL, c.RECORDS_REPLICATED.name, "Sum", "records replicated"),
                )
                for spec, units in (
                    (c.REPLICA_WRITE_UNITS, "write units"),
                    (c.REPLICA_READ_UNITS, "read units"),
                )
            ),
            # Global Tables bill one replicated write unit per replicated change of up to 1 KB.
            references=(Reference("Global Tables: 1 write unit per 1 KB change", 1.0),),
        ),
        Graph(
            "Records skipped per {period}, by reason (Sum)",
            tuple(
                _s(REPL, c.RECORDS_SKIPPED.name, "Sum", reason.value, (c.SKIP_REASON, reason.value))
                for reason in c.SkipReason
            ),
            "records per {period}",
        ),
        Graph(
            "Records failed per {period}, by error class (Sum)",
            (
                _s(REPL, c.RECORDS_FAILED.name, "Sum", "all"),
                _s(REPL, c.RECORDS_FAILED.name, "Sum", "{error_class}", (c.ERROR_CLASS, "{error_class}")),
            ),
            "records per {period}",
        ),
        Graph(
            "Replication lag: p50, p99 and maximum per {period}",
            tuple(_s(REPL, c.REPLICATION_LAG.name, stat, stat) for stat in ("p50", "p99", "Maximum")),
            "ms",
        ),
        Graph(
            "Stream iterator age of the replicator: maximum per {period}",
            (_lambda("IteratorAge", "Maximum", "{replicator_function}", "max"),),
            "ms",
        ),
        Graph(
            "Replicator errors and throttles per {period} (Sum)",
            (
                _lambda("Errors", "Sum", "{replicator_function}", "errors"),
                _lambda("Throttles", "Sum", "{replicator_function}", "throttles"),
            ),
            "invocations per {period}",
        ),
        Graph(
            "Replicator duration: average and maximum per {period}",
            (
                _lambda("Duration", "Average", "{replicator_function}", "avg"),
                _lambda("Duration", "Maximum", "{replicator_function}", "max"),
            ),
            "ms",
        ),
        Graph(
            "Failure queue depth: maximum per {period}",
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
            "Replica writes and throttling per {period} (Sum)",
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
                    account="{replica_account}",
                ),
            ),
            "requests per {period}",
        ),
    ),
)

USAGE_DASHBOARD = Dashboard(
    key="usage",
    title="Usage {table} ({source_region})",
    region="{source_region}",
    graphs=(
        Graph(
            "Changes per {period}, by type (Sum)",
            (
                *(
                    _s(USAGE, c.ITEM_CHANGES.name, "Sum", name, (c.EVENT_NAME, name))
                    for name in ("INSERT", "MODIFY", "REMOVE")
                ),
                _s(USAGE, c.TTL_DELETES.name, "Sum", "TTL deletes"),
            ),
            "changes per {period}",
        ),
        _users_graph(
            c.ACTIVE_USERS,
            "Active users per minute, table-wide: all shards merged (Maximum)",
            step_seconds=60,
        ),
        _users_graph(
            c.HOURLY_ACTIVE_USERS,
            "Hourly active users: the last 60 minutes, table-wide (Maximum per {period})",
        ),
        _users_graph(
            c.DAILY_ACTIVE_USERS,
            "DAU: distinct users in the last 24 clock hours, table-wide (Maximum per {period})",
        ),
        _users_graph(
            c.MONTHLY_ACTIVE_USERS,
            "MAU: distinct users in the last 30 UTC days, table-wide (Maximum per {period})",
        ),
        _users_graph(
            c.STICKINESS,
            "Stickiness: DAU / MAU in percent, table-wide (Maximum per {period})",
            left_label="% of monthly users active in the last 24 h",
        ),
        Graph(
            "Changes per {period}, by segment (Sum)",
            (_s(USAGE, c.ITEM_CHANGES.name, "Sum", "{segment}", (c.SEGMENT, "{segment}")),),
            "changes per {period}",
        ),
        Graph(
            "Attribute changes per {period} (Sum)",
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
            "changes per {period}",
        ),
        Graph(
            "Item size: p50, p99 and maximum per {period}",
            tuple(_s(USAGE, c.ITEM_SIZE.name, stat, stat) for stat in ("p50", "p99", "Maximum")),
            "bytes",
        ),
        Graph(
            "Freshness (change lag): p50, p99 and maximum per {period}",
            tuple(_s(USAGE, c.CHANGE_LAG.name, stat, stat) for stat in ("p50", "p99", "Maximum")),
            "ms",
        ),
        Graph(
            "Malformed records per {period} (Sum)",
            (_s(USAGE, c.MALFORMED_RECORDS.name, "Sum", "malformed"),),
            "records per {period}",
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


def _filled(series: Series, values: dict[str, str]) -> Series:
    return replace(
        series,
        namespace=_fill(series.namespace, values),
        dimensions=tuple((n, _fill(v, values)) for n, v in series.dimensions),
        label=_fill(series.label, values),
        region=_fill(series.region, values),
        account=_fill(series.account, values),
    )


def _graph_text(text: str, graph: Graph, base: dict[str, str], period_seconds: int | None) -> str:
    period = period_seconds or min((s.period_seconds for s in graph.inputs), default=60)
    return _fill(text, {**base, "period": period_text(period)})


def resolve(dashboard: Dashboard, ctx: DashboardContext, *, period_seconds: int | None = None) -> Dashboard:
    """Fill every placeholder; per-segment and per-attribute series become one series per value.

    ``period_seconds`` is the period the graphs are drawn at when it is not the series' own (a
    short local run draws at a shorter period); titles and axis labels name it.
    """
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
        "window": f"{ctx.window_seconds} s",
        "source_account": ctx.source_account,
        "replica_account": ctx.replica_account,
    }
    graphs = []
    for graph in dashboard.graphs:
        series = [
            _filled(template, {**base, **extra})
            for template in graph.series
            for extra in _expansions(template, ctx)
        ]
        ratios = tuple(
            replace(
                ratio,
                label=_fill(ratio.label, base),
                numerator=_filled(ratio.numerator, base),
                denominator=_filled(ratio.denominator, base),
            )
            for ratio in graph.ratios
        )
        graphs.append(
            replace(
                graph,
                title=_graph_text(graph.title, graph, base, period_seconds),
                left_label=_graph_text(graph.left_label, graph, base, period_seconds),
                series=tuple(series),
                ratios=ratios,
            )
        )
    return replace(
        dashboard,
        title=_fill(dashboard.title, base),
        region=_fill(dashboard.region, base),
        graphs=tuple(graphs),
    )
