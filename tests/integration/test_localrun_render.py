"""Dashboards rendered from the run's metrics, from the one dashboard definition."""

from __future__ import annotations

import time

import boto3

from localrun.cloudwatch.emf import Datum
from localrun.cloudwatch.metrics import MetricsHub
from localrun.cloudwatch.render import MetricReader, TimeRange, render_all, render_dashboard
from telemetry.dashboards import DASHBOARDS, resolve

TABLE = (("TableName", "Users"),)


def _datum(
    namespace: str,
    name: str,
    values: tuple[float, ...],
    when: float,
    dims: tuple[tuple[str, str], ...] = TABLE,
) -> Datum:
    return Datum(namespace, name, dims, values, "Count", 60, when)


def test_series_come_from_cloudwatch_and_percentiles_from_the_raw_values(aws, config):
    now = time.time()
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    hub = MetricsHub(lambda region: cloudwatch)
    hub.add(
        "us-east-1",
        [_datum("DynamoDBReplication", "ReplicationLagMs", tuple(float(v) for v in range(1, 101)), now)],
    )
    hub.add("us-east-1", [_datum("DynamoDBReplication", "RecordsReplicated", (3.0, 4.0), now)])
    hub.flush()
    board = resolve(DASHBOARDS[0], config.dashboard_context())
    (lag_graph,) = [graph for graph in board.graphs if graph.title.startswith("Replication lag")]
    series = [s for graph in board.graphs for s in graph.series]
    (replicated,) = [s for s in series if s.metric == "RecordsReplicated" and s.label == "INSERT"]
    window = TimeRange(now - 30, now + 30, 60)
    reader = MetricReader(hub, lambda region: cloudwatch)
    p50, p99, maximum = reader.read(lag_graph.series, window)
    assert (
        [v for _, v in p50] == [50.0] and [v for _, v in p99] == [99.0] and [v for _, v in maximum] == [100.0]
    )
    # A series nobody published has no points (it is drawn as "no data").
    assert reader.read([replicated], window) == [[]]


def test_every_dashboard_is_written_with_an_index(aws, tmp_path, config):
    now = time.time()
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    hub = MetricsHub(lambda region: cloudwatch)
    hub.add(
        "us-east-1",
        [_datum("DynamoDBUsage", "ItemChanges", (5.0,), now - 10, (*TABLE, ("EventName", "INSERT")))],
    )
    hub.flush()
    rendered = render_all(
        config.dashboard_context(), hub, lambda region: cloudwatch, start=now - 60, end=now, output=tmp_path
    )
    images = rendered.images
    assert [p.name for p in images] == [f"dashboard-{board.key}.png" for board in DASHBOARDS]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 20_000 for p in images)
    assert all(p.name in rendered.index.read_text() for p in images)
    assert rendered.series["usage"]["with_data"] == 1


def test_series_without_data_are_listed_not_dropped(tmp_path, config):
    hub = MetricsHub()  # no CloudWatch: the local values serve every statistic
    now = time.time()
    hub.add(
        "us-east-1",
        [_datum("DynamoDBUsage", "ItemChanges", (5.0,), now - 10, (*TABLE, ("EventName", "INSERT")))],
    )
    board = resolve(DASHBOARDS[1], config.dashboard_context())
    plots = render_dashboard(
        board, MetricReader(hub, None), TimeRange(now - 60, now, 5), tmp_path / "usage.png"
    )
    total = sum(len(graph.series) for graph in board.graphs)
    assert sum(len(plot.lines) for plot in plots) == 1
    assert sum(len(plot.without_data) for plot in plots) == total - 1


def test_a_ratio_line_divides_the_sums_cloudwatch_returns_for_its_two_series(aws, tmp_path, config):
    # GIVEN one minute of write units and records replicated in the embedded CloudWatch (whose
    # metric math returns nothing)
    now = time.time()
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    hub = MetricsHub(lambda region: cloudwatch)
    hub.add("us-east-1", [_datum("DynamoDBReplication", "ReplicaWriteUnits", (5.0, 4.0), now)])
    hub.add("us-east-1", [_datum("DynamoDBReplication", "RecordsReplicated", (4.0, 2.0), now)])
    hub.flush()
    board = resolve(DASHBOARDS[0], config.dashboard_context())
    # WHEN the replication dashboard is rendered
    plots = render_dashboard(
        board,
        MetricReader(hub, lambda region: cloudwatch),
        TimeRange(now - 30, now + 30, 60),
        tmp_path / "replication.png",
    )
    # THEN the cost graph's write-unit line is the minute's Sum of units over its Sum of records
    (cost,) = [plot for plot in plots if "per replicated change" in plot.title]
    (line,) = cost.lines
    assert line.label == "write units per change"
    assert [value for _, value in line.points] == [1.5]
    # AND the read-unit line, whose numerator nobody published, is listed as without data
    assert cost.without_data == ("read units per change",)
