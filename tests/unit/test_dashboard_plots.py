"""Dashboards a person reads at a glance: titles that state the period, axes from 0, distinct
series, legends that never cover data and leave out series without data."""

from __future__ import annotations

import datetime as dt
import itertools

import matplotlib.pyplot as plt
import pytest

from deployconfig.config import load
from localrun.cloudwatch.render import TimeRange, _draw, divide, line_styles, plan_graph
from telemetry import catalogue as c
from telemetry.dashboards import (
    DASHBOARDS,
    REPLICATION_DASHBOARD,
    Graph,
    Ratio,
    Reference,
    Series,
    period_text,
    resolve,
)

NOW = 1_800_000_000.0
CONTEXT = load().dashboard_context()


def _series(label: str, stat: str = "Sum", metric: str = "RecordsReplicated") -> Series:
    return Series("DynamoDBReplication", metric, (("TableName", "Users"),), stat, label)


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
            elif graph.step_seconds:  # a figure per minute, whatever the drawing period
                assert f"per {period_text(graph.step_seconds)}" in graph.title, graph.title
            else:
                assert f"per {expected}" in graph.title, graph.title


def test_no_title_claims_a_rate_per_second_for_a_per_minute_sum():
    titles = [g.title for template in DASHBOARDS for g in resolve(template, CONTEXT).graphs]
    assert not any("/ s" in title or "per second" in title for title in titles)


def test_every_series_of_a_graph_has_its_own_look():
    for board in (resolve(template, CONTEXT) for template in DASHBOARDS):
        for graph in board.graphs:
            looks = [(s.color, s.linestyle, s.marker) for s in line_styles(graph.lines)]
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


def test_a_figure_per_minute_holds_for_its_minute_whatever_the_drawing_period():
    graph = Graph("Active users per minute", (_series("all", "Maximum"),), step_seconds=60)
    plot = plan_graph(graph, [_points(40, 30, step=60)], window_seconds=10)
    assert plot.step_seconds == 60


def test_the_usage_dashboard_shows_table_wide_users_dau_mau_and_stickiness_per_segment():
    # GIVEN the usage dashboard as deployed
    (board,) = [resolve(t, CONTEXT) for t in DASHBOARDS if t.key == "usage"]
    by_metric = {graph.series[0].metric: graph for graph in board.graphs}
    # THEN each figure of the merge has its graph: the table's total and every segment, Maximum
    for spec, words in (
        (c.ACTIVE_USERS, "Active users per minute, table-wide: all shards merged"),
        (c.HOURLY_ACTIVE_USERS, "Hourly active users: the last 60 minutes, table-wide"),
        (c.DAILY_ACTIVE_USERS, "DAU: distinct users in the last 24 clock hours, table-wide"),
        (c.MONTHLY_ACTIVE_USERS, "MAU: distinct users in the last 30 UTC days, table-wide"),
        (c.STICKINESS, "Stickiness: DAU / MAU in percent, table-wide"),
    ):
        graph = by_metric[spec.name]
        assert words in graph.title
        assert [s.label for s in graph.series] == ["all", *CONTEXT.segments, c.OTHER_SEGMENT]
        assert {s.stat for s in graph.series} == {"Maximum"}


def _cost_graph() -> Graph:
    (graph,) = [
        g for g in resolve(REPLICATION_DASHBOARD, CONTEXT).graphs if "per replicated change" in g.title
    ]
    return graph


def test_write_units_per_replicated_change_sits_beside_records_replicated():
    # GIVEN the replication dashboard as deployed
    titles = [graph.title for graph in resolve(REPLICATION_DASHBOARD, CONTEXT).graphs]
    # THEN the cost graph comes right after records replicated (the next widget in the row)
    assert titles[0].startswith("Records replicated per minute")
    assert titles[1] == "Replica write and read units per replicated change, per minute (Sum / Sum)"
    graph = _cost_graph()
    # AND its lines divide the units' Sum by the records replicated's Sum, of the same table and period
    table = (("TableName", CONTEXT.table),)
    assert [(r.label, r.numerator.metric, r.denominator.metric) for r in graph.ratios] == [
        ("write units per change", c.REPLICA_WRITE_UNITS.name, c.RECORDS_REPLICATED.name),
        ("read units per change", c.REPLICA_READ_UNITS.name, c.RECORDS_REPLICATED.name),
    ]
    for part in graph.inputs:
        assert (part.dimensions, part.stat, part.period_seconds) == (table, "Sum", 60)
        assert part.region == CONTEXT.source_region  # EMF metrics land where the replicator runs
    # AND Global Tables' one write unit per change is drawn for comparison
    assert graph.references == (Reference("Global Tables: 1 write unit per 1 KB change", 1.0),)


def test_a_ratio_has_a_point_only_where_both_series_have_one_and_the_denominator_is_not_zero():
    # GIVEN write units in periods 0, 1, 2, 3 and records replicated in periods 0, 1 (zero), 3
    units = _points(6.0, 2.0, 4.0, 9.0)
    records = [(NOW, 3.0), (NOW + 1, 0.0), (NOW + 3, 9.0)]
    # WHEN divided period by period
    ratio = divide(units, records)
    # THEN periods 0 and 3 have a value, the zero and the missing denominator none
    assert ratio == [(NOW, 2.0), (NOW + 3, 1.0)]


def test_a_ratio_graph_plots_the_division_of_its_inputs_with_its_reference():
    # GIVEN a graph of one ratio and a reference line, and points for its two inputs
    ratio = Ratio("write units per change", _series("units", metric="ReplicaWriteUnits"), _series("records"))
    graph = Graph("Units per change", (), ratios=(ratio,), references=(Reference("Global Tables", 1.0),))
    # WHEN planned
    plot = plan_graph(graph, [_points(3.0, 1.0), _points(1.0, 2.0)])
    # THEN one line holds the quotients, and the axis leaves room for the reference line too
    (line,) = plot.lines
    assert (line.label, line.points) == ("write units per change", _points(3.0, 0.5))
    assert plot.references == graph.references
    assert plot.y_top == pytest.approx(3.3)
    # AND a ratio without data is named like a series without data, the reference still drawn
    empty = plan_graph(graph, [[], _points(1.0)])
    assert (empty.lines, empty.without_data, empty.y_top) == ((), ("write units per change",), 1.1)


def test_a_reference_line_is_drawn_across_the_graph_and_named_in_the_legend():
    # GIVEN the deployed cost graph with one period of data
    graph = _cost_graph()
    plot = plan_graph(graph, [_points(3.6), _points(1.0), _points(0.2), _points(1.0)])
    figure, ax = plt.subplots(layout="constrained")
    # WHEN it is drawn
    _draw(ax, plot, TimeRange(NOW, NOW + 10, 1))
    # THEN the legend names both ratios and Global Tables' reference, drawn at 1.0
    legend = ax.get_legend()
    assert legend is not None
    assert [text.get_text() for text in legend.get_texts()] == [
        "write units per change",
        "read units per change",
        "Global Tables: 1 write unit per 1 KB change",
    ]
    reference = [line for line in ax.get_lines() if str(line.get_label()).startswith("Global Tables")]
    assert [list(line.get_ydata()) for line in reference] == [[1.0, 1.0]]  # type: ignore[arg-type]
    plt.close(figure)
