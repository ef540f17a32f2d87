"""Dashboards, alarms and the alarm topic of one region.

Every dashboard widget is rendered from ``telemetry.dashboards`` (the definitions the local
runtime renders too) and every alarm on our own metrics names a ``telemetry.catalogue`` spec with
one of its declared dimension sets, so nothing here re-types a metric name.

CloudWatch alarms cannot watch another region's metrics, so each region gets its own topic and
alarms on the metrics that land there: the EMF metrics and the Lambda, SQS metrics in the source
region (where the functions run), the replica table's throttling in the replica region.

Dashboards can read other regions and (once the other account shares its CloudWatch data)
other accounts: every series names its region, and its account when the deployment names one,
so a series of the replica account drawn on a dashboard of the source account is not empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cdk.constructs.nag import acknowledge
from deployconfig.config import DeploymentConfig
from telemetry.catalogue import MetricSpec
from telemetry.dashboards import Dashboard, Graph, Ratio, Series, resolve

# AWS namespaces the dashboards and alarms use, with the dimension sets they are queried by.
AWS_DIMENSIONS: dict[str, frozenset[tuple[str, ...]]] = {
    "AWS/Lambda": frozenset({("FunctionName",)}),
    "AWS/SQS": frozenset({("QueueName",)}),
    "AWS/DynamoDB": frozenset({("TableName",)}),
}
_GRID_WIDTH = 24


def dashboard_url(region: str, name: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"
    )


def series_metric(series: Series) -> cw.Metric:
    """One resolved dashboard series as a CloudWatch metric ("p99" becomes a percentile)."""
    return cw.Metric(
        namespace=series.namespace,
        metric_name=series.metric,
        dimensions_map=dict(series.dimensions),
        statistic=series.stat,
        label=series.label,
        region=series.region,
        # Rendered as the series' accountId: without it CloudWatch reads the dashboard's own account.
        account=series.account or None,
        period=Duration.seconds(series.period_seconds),
    )


def ratio_metric(ratio: Ratio, index: int) -> cw.MathExpression:
    """One resolved ratio line as metric math over its two (hidden) series; ids unique per graph."""
    numerator, denominator = f"n{index}", f"d{index}"
    return cw.MathExpression(
        expression=f"{numerator} / {denominator}",
        using_metrics={
            numerator: series_metric(ratio.numerator),
            denominator: series_metric(ratio.denominator),
        },
        label=ratio.label,
        period=Duration.seconds(ratio.numerator.period_seconds),
    )


def graph_widget(graph: Graph, region: str) -> cw.GraphWidget:
    """One resolved graph: its series, its ratios (metric math) and its reference lines."""
    regions = {series.region for series in graph.inputs}
    accounts = {series.account for series in graph.inputs}
    # Metric math runs in the widget's region and account: a graph of ratios is drawn where its
    # inputs are.
    widget_region = regions.pop() if graph.ratios and len(regions) == 1 else region
    widget_account = accounts.pop() if graph.ratios and len(accounts) == 1 else ""
    return cw.GraphWidget(
        title=graph.title,
        left=[
            *(series_metric(series) for series in graph.series),
            *(ratio_metric(ratio, index) for index, ratio in enumerate(graph.ratios)),
        ],
        left_y_axis=cw.YAxisProps(label=graph.left_label, show_units=False, min=0),
        left_annotations=[
            cw.HorizontalAnnotation(value=ref.value, label=ref.label) for ref in graph.references
        ]
        or None,
        width=graph.width,
        height=graph.height,
        region=widget_region,
        account_id=widget_account or None,
    )


def catalogue_metric(
    spec: MetricSpec, namespace: str, dimensions: Mapping[str, str], statistic: str, period: Duration
) -> cw.Metric:
    """A metric of our own namespaces; refuses a dimension set the handlers never publish."""
    wanted = tuple(sorted(dimensions))
    if wanted not in {tuple(sorted(each)) for each in spec.dimension_sets}:
        raise ValueError(
            f"{spec.name} is published with dimension sets {spec.dimension_sets}, not {wanted}; "
            "an alarm on it would never see data"
        )
    return cw.Metric(
        namespace=namespace,
        metric_name=spec.name,
        dimensions_map=dict(dimensions),
        statistic=statistic,
        period=period,
    )


def aws_metric(
    namespace: str, name: str, dimensions: Mapping[str, str], statistic: str, period: Duration
) -> cw.Metric:
    """A metric AWS publishes; the dimensions are the physical names from the configuration."""
    if tuple(sorted(dimensions)) not in AWS_DIMENSIONS[namespace]:
        raise ValueError(f"{namespace} {name} is not queried by dimensions {sorted(dimensions)}")
    return cw.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dict(dimensions),
        statistic=statistic,
        period=period,
    )


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """One alarm: fires when ``metric`` crosses ``threshold`` in ``datapoints`` of ``periods``."""

    name: str
    description: str
    metric: cw.IMetric
    """A metric, or metric math over metrics of the alarm's own region (one series, one period)."""
    threshold: float
    periods: int = 1
    datapoints: int = 1
    comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


class Monitoring(Construct):
    """A region's alarm topic, its alarms and its dashboards."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=config.alarm_topic_name,
            display_name=f"{config.table_name} replication alarms",
            # Without a customer-managed key the topic is not encrypted: CloudWatch alarms cannot
            # publish to a topic under the AWS-managed aws/sns key. It carries alarm states only.
            master_key=key,
            enforce_ssl=True,
        )
        if config.alarm_email:
            subscription = subscriptions.EmailSubscription(config.alarm_email)
            self.topic.add_subscription(subscription)
            acknowledge(
                self.topic,
                "Serverless-SNSRedrivePolicy",
                "The only subscription is the operators' e-mail address. SNS retries deliveries "
                "to it; an undeliverable alarm mail would sit in a queue nobody reads, while the "
                "alarm's state and history stay in CloudWatch.",
            )

    def add_dashboard(self, construct_id: str, dashboard: Dashboard, name: str) -> str:
        """Create ``dashboard`` (resolved for this deployment) as ``name``; returns its console URL."""
        resolved = resolve(dashboard, self._config.dashboard_context())
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and region != resolved.region:
            raise ValueError(f"dashboard {name} belongs in {resolved.region}, not in a stack of {region}")
        self._dashboard(construct_id, resolved, name)
        return dashboard_url(resolved.region, name)

    def _dashboard(self, construct_id: str, dashboard: Dashboard, name: str) -> cw.Dashboard:
        board = cw.Dashboard(self, construct_id, dashboard_name=name, default_interval=Duration.hours(3))
        board.add_widgets(cw.TextWidget(markdown=f"# {dashboard.title}", width=_GRID_WIDTH, height=1))
        row: list[cw.IWidget] = []
        for graph in dashboard.graphs:
            if sum(widget.width for widget in row) + graph.width > _GRID_WIDTH:
                board.add_widgets(*row)
                row = []
            row.append(graph_widget(graph, dashboard.region))
        if row:
            board.add_widgets(*row)
        return board

    def add_alarm(self, construct_id: str, spec: AlarmSpec) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            construct_id,
            alarm_name=spec.name,
            alarm_description=spec.description,
            metric=spec.metric,
            threshold=spec.threshold,
            comparison_operator=spec.comparison,
            evaluation_periods=spec.periods,
            datapoints_to_alarm=spec.datapoints,
            # No data means no traffic: nothing is late, failing or throttled. An alarm that must
            # fire when its metric stops because something is stuck gets a series that does not
            # stop (the replication lag alarm: alarms.lag_or_iterator_age).
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        action = cw_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        return alarm
