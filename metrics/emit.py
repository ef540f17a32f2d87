"""Turn aggregates into CloudWatch EMF documents, purely; the handler writes them at the very end.

Documents are built with aws-embedded-metrics' own ``MetricsContext`` and ``LogSerializer``
(pure: they return lines), one document per distinct set of dimension values, with the
dimensions set explicitly (``set_dimensions``, no default dimensions), so a document names
exactly the series the catalogue and the dashboards name. Nothing but metric values and
dimension values is written: no properties, so nothing of an item can leak into the logs.

Limits kept here (EMF specification): at most 100 metrics per document (we emit at most five),
at most 30 dimension keys (the catalogue uses three at most), one value per counter. The two
distributions (item sizes, change lags) are published whole: up to 100 values as a plain array,
above that as value/count histograms of at most 100 distinct values per document
(:mod:`telemetry.emf`). So a batch yields 1 + 3 event names + segments + 3 x tracked attributes
rate documents, plus one more per further 100 distinct sizes or lags, and 1 + segments for
ActiveUsers, per table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aws_embedded_metrics import constants

from metrics.aggregate import TableAggregate
from metrics.errors import EmissionError
from metrics.settings import Settings
from metrics.sketch import DistinctCounter, union
from telemetry import catalogue as c
from telemetry.emf import document_lines

MAX_VALUES = constants.MAX_DATAPOINTS_PER_METRIC
MAX_METRICS = constants.MAX_METRICS_PER_EVENT
MAX_DIMENSIONS = constants.MAX_DIMENSION_SET_SIZE
_OLDEST = dt.timedelta(milliseconds=constants.MAX_TIMESTAMP_PAST_AGE) - dt.timedelta(hours=1)
_NEWEST = dt.timedelta(milliseconds=constants.MAX_TIMESTAMP_FUTURE_AGE) - dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Series:
    """Values of one catalogue metric under one set of dimension values."""

    spec: c.MetricSpec
    dimensions: tuple[tuple[str, str], ...]
    values: tuple[float, ...]

    @classmethod
    def of(cls, spec: c.MetricSpec, dimensions: Mapping[str, str], values: Iterable[float]) -> Series:
        names = tuple(dimensions)
        if names not in spec.dimension_sets:
            raise EmissionError(f"{spec.name} is not published under dimensions {names} (see the catalogue)")
        return cls(spec, tuple(dimensions.items()), tuple(values))


def rate_series(table: str, agg: TableAggregate, settings: Settings) -> list[Series]:
    """Every metric of a batch except ActiveUsers. The table-level counters are always published
    (zeros included, so alarms see a value); the breakdowns only where something happened."""
    t = {c.TABLE: table}
    out = [
        Series.of(c.ITEM_CHANGES, t, [agg.item_changes]),
        Series.of(c.TTL_DELETES, t, [agg.ttl_deletes]),
        Series.of(c.MALFORMED_RECORDS, t, [agg.malformed]),
    ]
    if agg.item_sizes:
        out.append(Series.of(c.ITEM_SIZE, t, agg.item_sizes))
    if agg.lags_ms:
        out.append(Series.of(c.CHANGE_LAG, t, agg.lags_ms))
    for event_name, count in sorted(agg.by_event.items()):
        out.append(Series.of(c.ITEM_CHANGES, {**t, c.EVENT_NAME: event_name.value}, [count]))
    if settings.segmented:
        for segment in settings.segments:
            if agg.by_segment[segment]:
                out.append(Series.of(c.ITEM_CHANGES, {**t, c.SEGMENT: segment}, [agg.by_segment[segment]]))
    for (attribute, change), count in sorted(agg.attribute_changes.items()):
        dims = {**t, c.ATTRIBUTE: attribute, c.CHANGE_TYPE: change.value}
        out.append(Series.of(c.ATTRIBUTE_CHANGES, dims, [count]))
    return out


def active_user_series(
    table: str, segments: Mapping[str, DistinctCounter], settings: Settings
) -> list[Series]:
    """Distinct users in total (the union of every segment) and, if segmented, per segment."""
    counts: dict[str | None, float] = {None: union(segments.values()).estimate()}
    for segment in settings.segments:
        if segment in segments:
            counts[segment] = segments[segment].estimate()
    return figure_series(c.ACTIVE_USERS, table, counts)


def figure_series(spec: c.MetricSpec, table: str, figures: Mapping[str | None, float]) -> list[Series]:
    """One series per figure: the table's total under key None, each segment under its name."""
    t = {c.TABLE: table}
    return [
        Series.of(spec, t if segment is None else {**t, c.SEGMENT: segment}, [value])
        for segment, value in figures.items()
    ]


def cloudwatch_timestamp(moment: dt.datetime, now: dt.datetime) -> dt.datetime:
    """``moment``, or ``now`` when CloudWatch would refuse it (over 14 days old or 2 hours ahead)."""
    return moment if now - _OLDEST <= moment <= now + _NEWEST else now


def render(series: Iterable[Series], namespace: str, timestamp: dt.datetime) -> list[str]:
    """One EMF document (a JSON line) per distinct set of dimension values, and one more per
    further 100 distinct values of a distribution."""
    groups: dict[tuple[tuple[str, str], ...], list[Series]] = {}
    for one in series:
        groups.setdefault(one.dimensions, []).append(one)
    lines: list[str] = []
    for dimensions, members in groups.items():
        if len(members) > MAX_METRICS or len(dimensions) > MAX_DIMENSIONS:
            raise EmissionError(
                f"a document would carry {len(members)} metrics and {len(dimensions)} dimensions"
            )
        if len({member.spec.name for member in members}) != len(members):
            raise EmissionError(f"a metric appears twice among the series for {dict(dimensions)}")
        for member in members:
            if len(member.values) != 1 and not member.spec.distribution:
                raise EmissionError(f"{member.spec.name}: {len(member.values)} values; a counter has one")
        lines += document_lines(
            namespace, dict(dimensions), [(m.spec, list(m.values)) for m in members], timestamp=timestamp
        )
    return lines
