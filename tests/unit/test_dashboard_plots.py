"""Dashboards a person reads at a glance: titles that state the period, axes from 0, distinct
series, legends that never cover data and leave out series without data."""

from __future__ import annotations

import datetime as dt
import itertools

import matplotlib.pyplot as plt
import pytest

from deployconfig.config import load
from localrun.cloudwatch.render import TimeRange, _draw, line_styles, plan_graph
from telemetry.dashboards import DASHBOARDS, Graph, Series, period_text, resolve

NOW = 1_800_000_000.0
CONTEXT = load().dashboard_context()


def _series(label: str, stat: str = "Sum") -> Series:
    return Series("DynamoDBReplication", "RecordsReplicated", (("TableName", "Users"),), stat, label)


def _points(*values: float, step: float = 1.0) -> list[tuple[float, float]]:
    return [(NOW + i * step, value) for i, value in enumerate(values)]


@pytest.mark.parametrize(
    ("seconds", "text"), [(1, "second"), (60, "minute"), (300, "5 minutes"), (5, "5 seconds")]
)
def test_a_period_reads_as_words(seconds, text):
    assert period_text(seconds) == text


@pytest.mark.parametrize("period", [None, 1, 5])
def test_every_title_states_what_is_plotted_and_over_which_period(period):
    # GIVEN the dashboards as deployed (None: the series' own 60 s) or drawn locally at a shorter period
    expected = period_text(period or 60)
    for board in (resolve(template, CONTEXT, period_seconds=period) for template in DASHBOARDS):
        for graph in board.graphs:
            # THEN no placeholder is left, and the title names the period (or the tumbling window)
            assert "{" not in graph.title and "{" not in graph.left_label, graph.title
            if graph.per_window:
                assert f"per {CONTEXT.window_seconds} s window" in graph.title
            else:
                assert f"per {expected}" in graph.title, graph.title


def test_no_title_claims_a_rate_per_second_for_a_per_minute_sum():
    titles = [g.title for template in DASHBOARDS for g in resolve(template, CONTEXT).graphs]
    assert not any("/ s" in title or "per second" in title for title in titles)


def test_every_series_of_a_graph_has_its_own_look():
    for board in (resolve(template, CONTEXT) for template in DASHBOARDS):
        for graph in board.graphs:
            looks = [(s.color, s.linestyle, s.marker) for s in line_styles(graph.series)]
            assert len(set(looks)) == len(looks), graph.title


def test_p99_and_maximum_differ_in_line_and_marker_not_only_color():
    p50, p99, maximum = line_styles([_series("p50", "p50"), _series("p99", "p99"), _series("max", "Maximum")])
    for a, b in itertools.combinations((p50, p99, maximum), 2):
        assert a.linestyle != b.linestyle and a.marker != b.marker
    # Coinciding lines stay visible: the later one is drawn with a smaller marker.
    assert p50.markersize > p99.markersize > maximum.markersize


def test_series_without_data_are_counted_not_in_the_legend():
    graph = Graph("Records per {period}", (_series("INSERT"), _series("MODIFY"), _series("REMOVE")))
    plot = plan_graph(graph, [_points(1, 2), [], []])
    assert [line.label for line in plot.lines] == ["INSERT"]
    assert plot.without_data == ("MODIFY", "REMOVE")


@pytest.mark.parametrize(
    ("values", "top"),
    [pytest.param((0.0, 0.0), 1.0, id="all-zero"), pytest.param((3.0, 10.0), 11.0, id="counts")],
)
def test_the_y_axis_starts_at_zero(values, top):
    plot = plan_graph(Graph("t", (_series("a"),)), [_points(*values)])
    assert plot.y_top == pytest.approx(top)


def test_the_legend_sits_outside_the_graph_and_names_the_missing_series_count():
    # GIVEN a graph with one series drawn and fourteen without data
    series = (_series("all"), *(_series(f"class {i}") for i in range(14)))
    plot = plan_graph(Graph("Failures", series), [_points(0, 0, 0), *([[]] * 14)])
    figure, ax = plt.subplots(layout="constrained")
    # WHEN it is drawn
    _draw(ax, plot, TimeRange(NOW, NOW + 10, 1))
    figure.canvas.draw()
    legend = ax.get_legend()
    assert legend is not None
    # THEN the legend holds the drawn series and a count of the others, and covers no data
    assert [text.get_text() for text in legend.get_texts()] == [
        "all",
        "+14 series without data (index.html)",
    ]
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    assert ax.get_ylim() == (0.0, 1.0)
    plt.close(figure)


def test_a_per_window_count_is_drawn_across_its_whole_window():
    graph = Graph("Active users", (_series("all", "Maximum"),), per_window=True)
    plot = plan_graph(graph, [_points(40, 30, step=10)], window_seconds=10)
    figure, ax = plt.subplots()
    _draw(ax, plot, TimeRange(NOW, NOW + 30, 1))
    (line,) = ax.get_lines()
    assert line.get_drawstyle() == "steps-post"
    last = line.get_xdata(orig=True)[-1]  # type: ignore[index]
    assert last == dt.datetime.fromtimestamp(NOW + 20, dt.UTC)  # the last window, 10 s long
    plt.close(figure)
