"""Check CloudWatch Embedded Metric Format documents against the specification, independently.

Written from the EMF specification (CloudWatch User Guide, "Specification: Embedded metric
format"), not from aws-embedded-metrics, so it can catch that library's mistakes as well as ours:

- the document is one JSON object (no NaN/Infinity) with an ``_aws`` metadata object holding an
  integer ``Timestamp`` (epoch milliseconds) and a non-empty ``CloudWatchMetrics`` array;
- each directive has a valid ``Namespace``, ``Dimensions`` (an array of dimension sets of at most
  30 names each) and ``Metrics`` (at most 100 definitions, each with a ``Name``, an optional
  standard ``Unit`` and an optional ``StorageResolution`` of 1 or 60);
- every dimension name refers to a top-level string member (ASCII, 1..1024 characters), and every
  metric name to a top-level number, a non-empty array of at most 100 numbers, or a histogram:
  ``{"Values": [...], "Counts": [...], "Max", "Min", "Count", "Sum"}`` with 1..100 distinct values
  and positive counts, the four statistics agreeing with them (the form AWS's EMF library for Java
  writes, ``model/Histogram.java``; a series' values are then each value repeated by its count).

:func:`parse` returns every series a document defines, so tests can compare values with ground
truth; :func:`parse_output` does it for captured standard output (non-EMF lines are skipped).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_DIMENSIONS_PER_SET = 30
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
MAX_DIMENSION_VALUE_LENGTH = 1024
NAMESPACE = re.compile(r"^[a-zA-Z0-9._#:/-]{1,256}$")
STANDARD_UNITS = frozenset(
    [
        *("Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "None"),
        *("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes"),
        *("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Count/Second"),
        *("Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second"),
        *("Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second"),
    ]
)


class EmfError(AssertionError):
    """The document breaks the EMF specification; the message says where."""


@dataclass(frozen=True)
class EmfSeries:
    namespace: str
    metric: str
    dimensions: dict[str, str]
    values: tuple[float, ...]
    unit: str | None
    storage_resolution: int
    timestamp_ms: int

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """(metric, sorted dimension items): how CloudWatch identifies the series in a namespace."""
        return self.metric, tuple(sorted(self.dimensions.items()))


@dataclass(frozen=True)
class EmfDocument:
    raw: dict[str, Any]
    timestamp_ms: int
    series: tuple[EmfSeries, ...]

    @property
    def metric_names(self) -> set[str]:
        return {s.metric for s in self.series}


def _reject_constant(name: str) -> float:
    raise EmfError(f"JSON constant {name} is not a valid metric value")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise EmfError(message)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _histogram(name: str, value: dict[str, Any]) -> tuple[float, ...]:
    values, counts = value.get("Values"), value.get("Counts")
    if not isinstance(values, list) or not isinstance(counts, list):
        raise EmfError(f"histogram {name!r}: Values and Counts must be arrays")
    _require(0 < len(values) == len(counts) <= MAX_VALUES_PER_METRIC, f"histogram {name!r}: 1..100 bins")
    _require(len(set(values)) == len(values), f"histogram {name!r}: a value appears twice")
    _require(all(_is_number(v) for v in values), f"histogram {name!r}: a non-numeric value")
    _require(
        all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in counts),
        f"histogram {name!r}: counts must be positive integers",
    )
    expanded = tuple(float(v) for v, n in zip(values, counts, strict=True) for _ in range(n))
    statistics = {"Max": max(expanded), "Min": min(expanded), "Count": len(expanded), "Sum": sum(expanded)}
    for key, expected in statistics.items():
        _require(
            _is_number(value.get(key)) and math.isclose(value[key], expected, rel_tol=1e-9),
            f"histogram {name!r}: {key} is {value.get(key)!r}, its bins say {expected}",
        )
    return expanded


def _values(doc: dict[str, Any], name: str) -> tuple[float, ...]:
    _require(name in doc, f"metric {name!r} has no top-level member")
    value = doc[name]
    if _is_number(value):
        return (float(value),)
    if isinstance(value, dict):
        return _histogram(name, value)
    _require(isinstance(value, list), f"metric {name!r} is neither a number nor an array of numbers")
    _require(0 < len(value) <= MAX_VALUES_PER_METRIC, f"metric {name!r} has {len(value)} values (1..100)")
    _require(all(_is_number(v) for v in value), f"metric {name!r} has a non-numeric value")
    return tuple(float(v) for v in value)


def _dimension_value(doc: dict[str, Any], name: str) -> str:
    _require(isinstance(name, str) and name != "", "a dimension name must be a non-empty string")
    _require(name in doc, f"dimension {name!r} has no top-level member")
    value = doc[name]
    _require(isinstance(value, str), f"dimension {name!r} must have a string value")
    _require(
        0 < len(value) <= MAX_DIMENSION_VALUE_LENGTH and value.isascii() and value.strip() != "",
        f"dimension {name!r} has an invalid value",
    )
    return str(value)


def parse(line: str) -> EmfDocument:
    """Validate one EMF document; return the series it defines (one per directive, set and metric)."""
    try:
        doc = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise EmfError(f"not JSON: {exc}") from None
    _require(isinstance(doc, dict), "an EMF document must be a JSON object")
    meta = doc.get("_aws")
    _require(isinstance(meta, dict), "the document has no _aws metadata object")
    timestamp = meta.get("Timestamp")
    _require(
        isinstance(timestamp, int) and not isinstance(timestamp, bool) and timestamp >= 0, "bad Timestamp"
    )
    directives = meta.get("CloudWatchMetrics")
    _require(
        isinstance(directives, list) and len(directives) > 0, "CloudWatchMetrics must be a non-empty array"
    )
    series: list[EmfSeries] = []
    for directive in directives:
        _require(isinstance(directive, dict), "a MetricDirective must be an object")
        namespace = directive.get("Namespace")
        _require(isinstance(namespace, str) and bool(NAMESPACE.match(namespace)), "bad Namespace")
        dimension_sets = directive.get("Dimensions")
        _require(isinstance(dimension_sets, list), "Dimensions must be an array of dimension sets")
        metrics = directive.get("Metrics")
        _require(isinstance(metrics, list), "Metrics must be an array")
        _require(
            len(metrics) <= MAX_METRICS_PER_DIRECTIVE, f"{len(metrics)} metrics in one directive (<= 100)"
        )
        resolved_sets = []
        for names in dimension_sets:
            _require(isinstance(names, list), "a dimension set must be an array of names")
            _require(len(names) <= MAX_DIMENSIONS_PER_SET, f"a dimension set has {len(names)} names (<= 30)")
            resolved_sets.append({name: _dimension_value(doc, name) for name in names})
        for definition in metrics:
            _require(isinstance(definition, dict), "a MetricDefinition must be an object")
            name = definition.get("Name")
            _require(isinstance(name, str) and name != "", "a MetricDefinition needs a Name")
            unit = definition.get("Unit")
            _require(unit is None or unit in STANDARD_UNITS, f"metric {name!r}: unknown Unit {unit!r}")
            resolution = definition.get("StorageResolution", 60)
            _require(resolution in (1, 60), f"metric {name!r}: StorageResolution must be 1 or 60")
            values = _values(doc, name)
            series.extend(
                EmfSeries(namespace, name, dims, values, unit, resolution, timestamp)
                for dims in resolved_sets
            )
    return EmfDocument(raw=doc, timestamp_ms=timestamp, series=tuple(series))


def is_emf(line: str) -> bool:
    """Whether a captured output line claims to be an EMF document (then it must also be valid)."""
    return line.startswith("{") and '"_aws"' in line


def parse_output(text_or_lines: str | Iterable[str]) -> list[EmfDocument]:
    """Validate every EMF line of captured output (stdout text or a list of lines)."""
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else text_or_lines
    return [parse(line) for line in lines if is_emf(line)]


def totals(documents: Iterable[EmfDocument]) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[float]]:
    """All values of each series (by :attr:`EmfSeries.key`) across the documents, in order."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = {}
    for doc in documents:
        for one in doc.series:
            out.setdefault(one.key, []).extend(one.values)
    return out
