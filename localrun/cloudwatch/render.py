"""Render the dashboards the CDK app deploys, from the local run's metrics, to PNG and HTML.

``telemetry.dashboards`` is the one definition: each dashboard becomes one PNG with a grid of its
graphs (title, one line per series, legend, unit label). Sum, Average, Minimum, Maximum and
SampleCount come from CloudWatch (``get_metric_data``); percentiles, which the embedded CloudWatch
cannot compute, come from the raw values the run kept (:class:`MetricsHub`).

What a person reads at a glance: the y-axis starts at 0; every series of a graph has its own color,
line and marker, and coinciding lines (p99 on the maximum at a short period) stay visible; the
legend sits below the graph and lists only series with data; the series without data are counted
on the graph and named in index.html, so a missing metric is visible rather than silently absent.

A ratio line is computed here from its two series, period by period (:func:`divide`): the embedded
CloudWatch's metric math returns nothing. Reference lines are drawn as dashed grey lines.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from localrun.cloudwatch.metrics import MetricsHub, percentile, series_key
from telemetry.dashboards import (
    DASHBOARDS,
    Dashboard,
    DashboardContext,
    Graph,
    Ratio,
    Reference,
    Series,
    resolve,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

Points = list[tuple[float, float]]
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_PERIODS = (1, 5, 10, 30, 60, 300)
_MAX_QUERIES = 500  # GetMetricData's limit per request
_COLUMNS = 3


def choose_period(start: float, end: float, preferred: int, *, min_points: int = 10) -> int:
    """The dashboard's period when the range holds enough of them, else a shorter one (short runs)."""
    span = max(1.0, end - start)
    if span / preferred >= min_points:
        return preferred
    fitting = [p for p in _PERIODS if p <= preferred and span / p >= min_points]
    return max(fitting) if fitting else 1


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: float
    end: float
    period: int

    def buckets(self) -> list[float]:
        first = math.floor(self.start / self.period) * self.period
        return [first + i * self.period for i in range(int((self.end - first) // self.period) + 1)]


class MetricReader:
    """Reads series: CloudWatch for the usual statistics, local raw values for percentiles."""

    def __init__(self, hub: MetricsHub, cloudwatch: Callable[[str], CloudWatchClient] | None) -> None:
        self._hub = hub
        self._cloudwatch = cloudwatch

    def _percentile(self, series: Series, p: float, window: TimeRange) -> Points:
        key = series_key(series.region, series.namespace, series.metric, series.dimensions)
        points = []
        for bucket in window.buckets():
            values = [v for _, v in self._hub.samples(key, bucket, bucket + window.period)]
            if values:
                points.append((bucket, percentile(values, p)))
        return points

    def _local_stat(self, series: Series, window: TimeRange) -> Points:
        key = series_key(series.region, series.namespace, series.metric, series.dimensions)
        reducers: dict[str, Callable[[list[float]], float]] = {
            "Sum": sum,
            "Maximum": max,
            "Minimum": min,
            "Average": lambda values: sum(values) / len(values),
            "SampleCount": lambda values: float(len(values)),
        }
        points = []
        for bucket in window.buckets():
            values = [v for _, v in self._hub.samples(key, bucket, bucket + window.period)]
            if values:
                points.append((bucket, reducers[series.stat](values)))
        return points

    def read(self, series_list: Sequence[Series], window: TimeRange) -> list[Points]:
        results: list[Points] = [[] for _ in series_list]
        queries: dict[str, list[tuple[int, Series]]] = {}
        for index, series in enumerate(series_list):
            match = _PERCENTILE.match(series.stat)
            if match:
                results[index] = self._percentile(series, float(match.group(1)), window)
            elif self._cloudwatch is None:
                results[index] = self._local_stat(series, window)
            else:
                queries.setdefault(series.region, []).append((index, series))
        for region, entries in queries.items():
            client = self._cloudwatch(region) if self._cloudwatch else None
            assert client is not None
            for chunk_start in range(0, len(entries), _MAX_QUERIES):
                chunk = entries[chunk_start : chunk_start + _MAX_QUERIES]
                response = client.get_metric_data(
                    MetricDataQueries=[
                        {
                            "Id": f"q{index}",
                            "MetricStat": {
                                "Metric": {
                                    "Namespace": series.namespace,
                                    "MetricName": series.metric,
                                    # Same order as published (sorted by name): moto's dimension
                                    # comparison is broken and only matches identical orders.
                                    "Dimensions": [
                                        {"Name": n, "Value": v} for n, v in sorted(series.dimensions)
                                    ],
                                },
                                "Period": window.period,
                                "Stat": series.stat,
                            },
                        }
                        for index, series in chunk
                    ],
                    StartTime=dt.datetime.fromtimestamp(window.buckets()[0], dt.UTC),
                    EndTime=dt.datetime.fromtimestamp(window.end + window.period, dt.UTC),
                )
                for result in response["MetricDataResults"]:
                    index = int(result["Id"][1:])
                    pairs = sorted(zip(result["Timestamps"], result["Values"], strict=True))
                    results[index] = [(stamp.timestamp(), value) for stamp, value in pairs]
        return results


def divide(numerator: Points, denominator: Points) -> Points:
    """A ratio's points: each period where both series have a value and the denominator is not 0."""
    below = dict(denominator)
    return [(when, value / below[when]) for when, value in numerator if below.get(when)]


def line_points(graph: Graph, data: Sequence[Points]) -> list[Points]:
    """The points of each drawn line (:attr:`Graph.lines`) from those of each input (:attr:`Graph.inputs`)."""
    count = len(graph.series)
    ratio_inputs = data[count:]
    ratios = [divide(ratio_inputs[2 * i], ratio_inputs[2 * i + 1]) for i in range(len(graph.ratios))]
    return [*data[:count], *ratios]


@dataclass(frozen=True, slots=True)
class LineStyle:
    color: str
    linestyle: str
    marker: str
    markersize: float


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    points: Points
    style: LineStyle


@dataclass(frozen=True, slots=True)
class GraphPlot:
    """What one graph shows, decided purely: drawing it is :func:`_draw`'s only job."""

    title: str
    y_label: str
    lines: tuple[Line, ...]
    """Series with data, in legend order: only these are in the legend."""
    without_data: tuple[str, ...]
    """Labels of the series that had no data: named under the graph and in index.html."""
    y_top: float
    step_seconds: int
    """How long each value holds (a tumbling window's count); 0 for values at points in time."""
    references: tuple[Reference, ...] = ()


# Percentiles and maxima often coincide at short periods: each statistic keeps one look, and
# every later line is drawn thinner with a smaller marker, so coinciding lines stay visible.
_STAT_STYLES = {"p50": ("-", "o"), "p90": ("-.", "D"), "p99": ("--", "s"), "Maximum": (":", "^")}
_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_COLORS = tuple(f"tab:{name}" for name in ("blue", "orange", "green", "red", "purple", "brown", "pink"))
_COLORS += tuple(f"tab:{name}" for name in ("gray", "olive", "cyan"))


def line_styles(series: Sequence[Series | Ratio]) -> list[LineStyle]:
    """One style per series, every (color, line, marker) combination different within a graph."""
    stats = [one.stat for one in series]
    by_stat = len(set(stats)) == len(stats) and all(stat in _STAT_STYLES for stat in stats)
    styles = []
    for index, one in enumerate(series):
        linestyle, marker = (
            _STAT_STYLES[one.stat]
            if by_stat
            else (_LINESTYLES[index % len(_LINESTYLES)], _MARKERS[(index // 2) % len(_MARKERS)])
        )
        color = _COLORS[index % len(_COLORS)]
        styles.append(LineStyle(color, linestyle, marker, markersize=max(2.5, 6.5 - 1.2 * index)))
    return styles


def plan_graph(graph: Graph, data: Sequence[Points], *, window_seconds: int = 60) -> GraphPlot:
    """Lines, legend and y-range of one resolved graph from its inputs' points (pure).

    ``data`` holds the points of each of :attr:`Graph.inputs` (for a graph without ratios, its
    series). ``window_seconds`` is the tumbling window a per-window graph's values hold for.
    """
    drawn = graph.lines
    points = line_points(graph, data)
    styles = line_styles(drawn)
    lines = tuple(
        Line(line.label, values, style)
        for line, values, style in zip(drawn, points, styles, strict=True)
        if values
    )
    without = tuple(line.label for line, values in zip(drawn, points, strict=True) if not values)
    highest = max(
        [value for line in lines for _, value in line.points] + [ref.value for ref in graph.references],
        default=0.0,
    )
    # Everything we plot is a count, a size, a duration or a ratio of counts: the axis starts at 0,
    # and a graph of zeros gets a 0..1 axis instead of matplotlib's -0.04..0.04.
    y_top = highest * 1.1 if highest > 0 else 1.0
    step = graph.step_seconds or (window_seconds if graph.per_window else 0)
    return GraphPlot(graph.title, graph.left_label, lines, without, y_top, step, graph.references)


def _draw(ax: Any, plot: GraphPlot, window: TimeRange) -> None:
    for line in plot.lines:
        times = [dt.datetime.fromtimestamp(t, dt.UTC) for t, _ in line.points]
        values = [v for _, v in line.points]
        if plot.step_seconds:  # a window's value holds for the whole window: draw it across
            times.append(times[-1] + dt.timedelta(seconds=plot.step_seconds))
            values.append(values[-1])
        ax.plot(
            times,
            values,
            label=line.label,
            color=line.style.color,
            linestyle=line.style.linestyle,
            marker=line.style.marker,
            markersize=line.style.markersize,
            markevery=slice(0, len(line.points)),
            linewidth=1.4,
            drawstyle="steps-post" if plot.step_seconds else "default",
        )
    for reference in plot.references:
        ax.axhline(reference.value, label=reference.label, color="grey", linestyle="--", linewidth=1.0)
    if not plot.lines:
        ax.text(
            0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="grey", fontsize=14
        )
    ax.set_title(plot.title, fontsize=10, wrap=True)
    ax.set_ylabel(plot.y_label, fontsize=9)
    ax.set_ylim(0, plot.y_top)
    ax.set_xlim(
        dt.datetime.fromtimestamp(window.start, dt.UTC), dt.datetime.fromtimestamp(window.end, dt.UTC)
    )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))  # type: ignore[no-untyped-call]
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if plot.without_data:  # counted in the legend, named in index.html
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(f"+{len(plot.without_data)} series without data (index.html)")
    if handles:  # below the axes, never over the data
        ax.legend(
            handles,
            labels,
            fontsize=7,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
            ncol=min(3, len(handles)),
            frameon=False,
        )


def render_dashboard(
    dashboard: Dashboard, reader: MetricReader, window: TimeRange, path: Path, *, window_seconds: int = 60
) -> list[GraphPlot]:
    """Draw one resolved dashboard to ``path``; returns what each graph showed."""
    rows = math.ceil(len(dashboard.graphs) / _COLUMNS)
    figure, axes = plt.subplots(
        rows, _COLUMNS, figsize=(6.4 * _COLUMNS, 5.0 * rows), squeeze=False, layout="constrained"
    )
    plots = []
    for position, graph in enumerate(dashboard.graphs):
        plot = plan_graph(graph, reader.read(graph.inputs, window), window_seconds=window_seconds)
        _draw(axes[position // _COLUMNS][position % _COLUMNS], plot, window)
        plots.append(plot)
    for position in range(len(dashboard.graphs), rows * _COLUMNS):
        axes[position // _COLUMNS][position % _COLUMNS].set_visible(False)
    started = dt.datetime.fromtimestamp(window.start, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    figure.suptitle(f"{dashboard.title}  ({dashboard.region}, from {started})", fontsize=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return plots


def write_index(
    pages: Sequence[tuple[Dashboard, Path, Sequence[GraphPlot]]], path: Path, *, window: TimeRange
) -> Path:
    """An HTML page that shows and links every rendered dashboard, and names the series without data."""
    started = dt.datetime.fromtimestamp(window.start, dt.UTC).isoformat(timespec="seconds")
    ended = dt.datetime.fromtimestamp(window.end, dt.UTC).isoformat(timespec="seconds")
    sections = []
    for board, image, plots in pages:
        missing = "".join(
            f"<li>{html.escape(plot.title)}: {html.escape(', '.join(plot.without_data))}</li>"
            for plot in plots
            if plot.without_data
        )
        sections.append(
            f'<h2>{html.escape(board.title)}</h2>\n<p><a href="{html.escape(image.name)}">'
            f'<img src="{html.escape(image.name)}" alt="{html.escape(board.title)}" '
            'style="max-width:100%"></a></p>\n'
            + (f"<p>Series without data in this run:</p>\n<ul>{missing}</ul>\n" if missing else "")
        )
    path.write_text(
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>Local dashboards</title></head>\n'
        f"<body>\n<h1>Dashboards of the local run</h1>\n<p>{started} to {ended}, period {window.period} s. "
        "The same definitions (telemetry/dashboards.py) as the CloudWatch dashboards "
        "the CDK app deploys.</p>\n" + "".join(sections) + "</body></html>\n",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True, slots=True)
class Rendered:
    images: list[Path]
    index: Path
    series: dict[str, dict[str, int]]
    """Per dashboard key: how many series had data and how many had none."""


def render_all(
    context: DashboardContext,
    hub: MetricsHub,
    cloudwatch: Callable[[str], CloudWatchClient] | None,
    *,
    start: float,
    end: float,
    output: Path,
) -> Rendered:
    """Every dashboard of ``telemetry.dashboards`` to ``output/<key>.png``, plus ``output/index.html``."""
    reader = MetricReader(hub, cloudwatch)
    preferred = min(
        series.period_seconds for board in DASHBOARDS for graph in board.graphs for series in graph.inputs
    )
    window = TimeRange(start, end, choose_period(start, end, preferred))
    pages = []
    counts = {}
    for template in DASHBOARDS:
        board = resolve(template, context, period_seconds=window.period)
        path = output / f"dashboard-{board.key}.png"
        plots = render_dashboard(board, reader, window, path, window_seconds=context.window_seconds)
        counts[board.key] = {
            "with_data": sum(len(plot.lines) for plot in plots),
            "without_data": sum(len(plot.without_data) for plot in plots),
        }
        pages.append((board, path, plots))
    index = write_index(pages, output / "index.html", window=window)
    return Rendered([path for _, path, _ in pages], index, counts)
