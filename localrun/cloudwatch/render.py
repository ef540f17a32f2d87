"""Render the dashboards the CDK app deploys, from the local run's metrics, to PNG and HTML.

``telemetry.dashboards`` is the one definition: each dashboard becomes one PNG with a grid of its
graphs (title, one line per series, legend, unit label). Sum, Average, Minimum, Maximum and
SampleCount come from CloudWatch (``get_metric_data``); percentiles, which the embedded CloudWatch
cannot compute, come from the raw values the run kept (:class:`MetricsHub`). A series without data
stays in the legend, marked "no data", so a missing metric is visible rather than silently absent.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from localrun.cloudwatch.metrics import MetricsHub, percentile, series_key
from telemetry.dashboards import DASHBOARDS, Dashboard, DashboardContext, Series, resolve

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


def _label(text: str, period: int) -> str:
    return text.replace("per minute", f"per {period} s") if period != 60 else text


def render_dashboard(
    dashboard: Dashboard, reader: MetricReader, window: TimeRange, path: Path
) -> dict[str, int]:
    """Draw one resolved dashboard to ``path``; returns how many series had data / none."""
    rows = math.ceil(len(dashboard.graphs) / _COLUMNS)
    figure, axes = plt.subplots(rows, _COLUMNS, figsize=(6.2 * _COLUMNS, 4.2 * rows), squeeze=False)
    counts = {"with_data": 0, "without_data": 0}
    for position, graph in enumerate(dashboard.graphs):
        ax = axes[position // _COLUMNS][position % _COLUMNS]
        data = reader.read(graph.series, window)
        any_data = False
        for series, points in zip(graph.series, data, strict=True):
            if points:
                any_data = True
                counts["with_data"] += 1
                times = [dt.datetime.fromtimestamp(t, dt.UTC) for t, _ in points]
                ax.plot(times, [v for _, v in points], marker=".", linewidth=1.4, label=series.label)
            else:
                counts["without_data"] += 1
                ax.plot([], [], linestyle=":", color="grey", label=f"{series.label} (no data)")
        if not any_data:
            ax.text(
                0.5,
                0.5,
                "no data",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="grey",
                fontsize=14,
            )
        ax.set_title(f"{graph.title}\nperiod {window.period} s", fontsize=10)
        ax.set_ylabel(_label(graph.left_label, window.period), fontsize=9)
        ax.set_xlim(
            dt.datetime.fromtimestamp(window.start, dt.UTC), dt.datetime.fromtimestamp(window.end, dt.UTC)
        )
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))  # type: ignore[no-untyped-call]
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    for position in range(len(dashboard.graphs), rows * _COLUMNS):
        axes[position // _COLUMNS][position % _COLUMNS].set_visible(False)
    started = dt.datetime.fromtimestamp(window.start, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    figure.suptitle(f"{dashboard.title}  ({dashboard.region}, from {started})", fontsize=13)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return counts


def write_index(pages: Sequence[tuple[Dashboard, Path]], path: Path, *, window: TimeRange) -> Path:
    """An HTML page that shows and links every rendered dashboard."""
    started = dt.datetime.fromtimestamp(window.start, dt.UTC).isoformat(timespec="seconds")
    ended = dt.datetime.fromtimestamp(window.end, dt.UTC).isoformat(timespec="seconds")
    sections = "\n".join(
        f'<h2>{html.escape(board.title)}</h2>\n<p><a href="{html.escape(image.name)}">'
        f'<img src="{html.escape(image.name)}" alt="{html.escape(board.title)}" '
        'style="max-width:100%"></a></p>'
        for board, image in pages
    )
    path.write_text(
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>Local dashboards</title></head>\n'
        f"<body>\n<h1>Dashboards of the local run</h1>\n<p>{started} to {ended}, period {window.period} s. "
        "The same definitions (telemetry/dashboards.py) as the CloudWatch dashboards "
        "the CDK app deploys.</p>\n"
        f"{sections}\n</body></html>\n",
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
        series.period_seconds for board in DASHBOARDS for graph in board.graphs for series in graph.series
    )
    window = TimeRange(start, end, choose_period(start, end, preferred))
    pages = []
    counts = {}
    for template in DASHBOARDS:
        board = resolve(template, context)
        path = output / f"dashboard-{board.key}.png"
        counts[board.key] = render_dashboard(board, reader, window, path)
        pages.append((board, path))
    index = write_index(pages, output / "index.html", window=window)
    return Rendered([path for _, path in pages], index, counts)
