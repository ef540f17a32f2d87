"""The metric series synthesized dashboards and alarms refer to, and the series that exist.

A *reference* is what a widget or alarm queries: namespace, metric name and the exact set of
dimension name/value pairs (CloudWatch matches that set exactly: a series published under
{TableName, Operation} is invisible to a query for {TableName}). A *universe* says which series
exist. Two are provided here:

* :func:`declared_universe` - what ``telemetry.catalogue`` declares the handlers publish (names,
  dimension sets, and the enumerated values of each dimension) plus the AWS metrics of the
  deployment's own functions, queues and tables;
* :class:`EmittedUniverse` - a set of series collected from the real handlers' EMF output, to be
  plugged in by a test that runs them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from deployconfig.config import DeploymentConfig
from telemetry import catalogue as c
from tests.support.emf import EmfDocument

Dimensions = frozenset[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class MetricRef:
    namespace: str
    name: str
    dimensions: Dimensions
    region: str | None
    where: str  # "dashboard <name> / <widget title>" or "alarm <name>", for failure messages
    account: str | None = None  # where the series is read from; None: the stack's (unknown) account

    @property
    def series(self) -> tuple[str, str, Dimensions]:
        return (self.namespace, self.name, self.dimensions)


Universe = Callable[[MetricRef], bool]


def _text(value: Any) -> str:
    """A DashboardBody: a string, or an Fn::Join of strings (tokens would be a bug here)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        if not all(isinstance(part, str) for part in parts):
            raise AssertionError(f"dashboard body contains unresolved tokens: {parts!r}")
        return str(separator).join(parts)
    raise AssertionError(f"unexpected dashboard body {value!r}")


def _dashboard_refs(name: str, body: dict[str, Any], account: str | None) -> Iterator[MetricRef]:
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        props = widget["properties"]
        for row in props["metrics"]:
            options = row[-1] if isinstance(row[-1], dict) else {}
            fields = row[:-1] if options else row
            if "expression" in options and not fields:
                continue  # metric math: the series it reads are rows of their own (hidden)
            if "expression" in options or any(field in (".", "..") for field in fields):
                raise AssertionError(f"unsupported metric row in {name}: {row!r}")
            namespace, metric, *pairs = fields
            dimensions = frozenset(zip(pairs[::2], pairs[1::2], strict=True))
            yield MetricRef(
                namespace,
                metric,
                dimensions,
                options.get("region", props.get("region")),
                f"dashboard {name} / {props.get('title')}",
                options.get("accountId", props.get("accountId", account)),
            )


def _dimensions(metric: dict[str, Any]) -> Dimensions:
    return frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))


def _alarm_refs(props: dict[str, Any], region: str, account: str | None) -> Iterator[MetricRef]:
    where = f"alarm {props.get('AlarmName')}"
    if "Metrics" not in props:
        yield MetricRef(props["Namespace"], props["MetricName"], _dimensions(props), region, where, account)
        return
    for query in props["Metrics"]:  # metric math: every series it reads
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            yield MetricRef(
                metric["Namespace"],
                metric["MetricName"],
                _dimensions(metric),
                region,
                f"{where} / {query['Id']}",
                query.get("AccountId", account),
            )


def template_refs(template: Mapping[str, Any], region: str, account: str | None = None) -> list[MetricRef]:
    """Every metric a template's dashboards and alarms query (``account``: the stack's account)."""
    refs: list[MetricRef] = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Dashboard":
            body = json.loads(_text(props["DashboardBody"]))
            refs.extend(_dashboard_refs(props["DashboardName"], body, account))
        elif resource["Type"] == "AWS::CloudWatch::Alarm":
            refs.extend(_alarm_refs(props, region, account))
    return refs


def _allowed_values(config: DeploymentConfig) -> dict[str, set[str]]:
    """Every value each of our dimensions can take in this deployment."""
    operations = {"INSERT", "MODIFY", "REMOVE"}
    return {
        c.TABLE: {config.table_name},
        c.OPERATION: operations,
        c.EVENT_NAME: operations,
        c.SKIP_REASON: {reason.value for reason in c.SkipReason},
        c.CHANGE_TYPE: {change.value for change in c.ChangeType},
        c.ATTRIBUTE: set(config.tracked_attributes),
        c.SEGMENT: {*config.segment_values, c.OTHER_SEGMENT},
        c.ERROR_CLASS: set(c.ERROR_CLASSES),
    }


def _aws_series(config: DeploymentConfig) -> dict[tuple[str, str], set[str]]:
    """AWS metrics the deployment's resources publish: (namespace, dimension name) -> values."""
    return {
        ("AWS/Lambda", "FunctionName"): {
            config.replicator_function_name,
            config.metrics_function_name,
            config.merge_function_name,
        },
        ("AWS/SQS", "QueueName"): {config.failure_queue_name, config.metrics_failure_queue_name},
        ("AWS/DynamoDB", "TableName"): {config.replica_table_name, config.table_name},
    }


AWS_METRIC_NAMES = {
    "AWS/Lambda": {"IteratorAge", "Errors", "Throttles", "Duration", "Invocations", "ConcurrentExecutions"},
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"},
    "AWS/DynamoDB": {"WriteThrottleEvents", "ReadThrottleEvents", "ConsumedWriteCapacityUnits"},
}


def declared_universe(config: DeploymentConfig) -> Universe:
    """A series exists if the catalogue declares it (or AWS publishes it for our resources)."""
    specs = {
        config.replication_namespace: {spec.name: spec for spec in c.REPLICATOR_METRICS},
        config.usage_namespace: {spec.name: spec for spec in c.USAGE_METRICS},
    }
    allowed = _allowed_values(config)
    aws = _aws_series(config)

    def exists(ref: MetricRef) -> bool:
        if ref.namespace.startswith("AWS/"):
            if ref.name not in AWS_METRIC_NAMES.get(ref.namespace, set()) or len(ref.dimensions) != 1:
                return False
            ((dimension, value),) = ref.dimensions
            return value in aws.get((ref.namespace, dimension), set())
        spec = specs.get(ref.namespace, {}).get(ref.name)
        if spec is None:
            return False
        names = {name for name, _ in ref.dimensions}
        if names not in [set(each) for each in spec.dimension_sets]:
            return False
        return all(value in allowed.get(name, set()) for name, value in ref.dimensions)

    return exists


@dataclass(frozen=True)
class EmittedUniverse:
    """Series the real handlers emitted (namespace, name, exact dimension pairs); AWS/* series
    cannot come from our handlers and are judged by ``aws`` instead."""

    emitted: frozenset[tuple[str, str, Dimensions]]
    aws: Universe

    def __call__(self, ref: MetricRef) -> bool:
        if ref.namespace.startswith("AWS/"):
            return self.aws(ref)
        return ref.series in self.emitted


def emitted_series(documents: Iterable[EmfDocument]) -> frozenset[tuple[str, str, Dimensions]]:
    """(namespace, name, exact dimension pairs) of every series in validated EMF documents."""
    return frozenset(
        (one.namespace, one.metric, frozenset(one.dimensions.items()))
        for document in documents
        for one in document.series
    )


def missing(refs: Iterable[MetricRef], universe: Universe) -> list[str]:
    """Human-readable lines for every reference to a series that does not exist."""
    return [
        f"{ref.where}: {ref.namespace} {ref.name} {sorted(ref.dimensions)}"
        for ref in refs
        if not universe(ref)
    ]
