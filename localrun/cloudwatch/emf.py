"""Read CloudWatch Embedded Metric Format documents, as CloudWatch Logs does in AWS.

In Lambda, a handler prints an EMF JSON document to stdout and CloudWatch Logs extracts metrics
from it. Locally nothing does that, so the runner reads each invocation's output with
:func:`parse_line` and publishes the result. The rules follow the EMF specification: ``_aws`` holds
``Timestamp`` (epoch milliseconds) and ``CloudWatchMetrics`` directives; each directive names a
``Namespace``, ``Dimensions`` (lists of member names whose string values sit at the document's top
level) and ``Metrics`` (``Name``, optional ``Unit`` and ``StorageResolution``); a metric's value is
a top-level number, a list of numbers (at most 100), or a histogram ``{"Values": [...], "Counts":
[...], ...}`` of at most 100 bins (the form AWS's EMF library for Java writes). A histogram becomes
each value repeated by its count: the local runtime keeps raw values for percentiles, so it takes
whole counts only (fractional counts, which CloudWatch would accept, are refused here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_VALUES = 100
MAX_DIMENSIONS = 30


class EmfError(ValueError):
    """A document that claims to be EMF but that CloudWatch would not turn into metrics."""


@dataclass(frozen=True, slots=True)
class Datum:
    """Values of one metric with one exact set of dimensions, at one time."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    """Sorted by name: a metric's identity does not depend on the order dimensions were listed."""
    values: tuple[float, ...]
    unit: str | None
    storage_resolution: int
    timestamp: float
    """Epoch seconds."""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _histogram(name: str, raw: Mapping[str, Any]) -> tuple[float, ...]:
    values, counts = raw.get("Values"), raw.get("Counts")
    if not isinstance(values, list) or not isinstance(counts, list) or len(values) != len(counts):
        raise EmfError(f"histogram {name!r} needs Values and Counts of the same length")
    if len(values) > MAX_VALUES:
        raise EmfError(f"histogram {name!r} has {len(values)} bins; EMF allows {MAX_VALUES}")
    numbers = [_number(item) for item in values]
    if any(number is None for number in numbers):
        raise EmfError(f"histogram {name!r} has a value that is not a number")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in counts):
        raise EmfError(f"histogram {name!r}: the local runtime takes positive whole counts only")
    pairs = zip(numbers, counts, strict=True)
    return tuple(number for number, n in pairs if number is not None for _ in range(n))


def _values(document: Mapping[str, Any], name: str) -> tuple[float, ...]:
    raw = document.get(name)
    if isinstance(raw, Mapping):
        return _histogram(name, raw)
    if isinstance(raw, list):
        if len(raw) > MAX_VALUES:
            raise EmfError(f"metric {name!r} has {len(raw)} values; EMF allows {MAX_VALUES}")
        numbers = [_number(item) for item in raw]
        if any(number is None for number in numbers):
            raise EmfError(f"metric {name!r} has a value that is not a number")
        return tuple(number for number in numbers if number is not None)
    number = _number(raw)
    if raw is not None and number is None:
        raise EmfError(f"metric {name!r} has a value that is not a number")
    return () if number is None else (number,)


def _dimension_sets(
    directive: Mapping[str, Any], document: Mapping[str, Any]
) -> list[tuple[tuple[str, str], ...]]:
    sets = directive.get("Dimensions")
    if not isinstance(sets, list):
        raise EmfError("a CloudWatchMetrics directive has no Dimensions list")
    result = []
    for names in sets:
        if not isinstance(names, list) or len(names) > MAX_DIMENSIONS:
            raise EmfError(f"a dimension set must be a list of at most {MAX_DIMENSIONS} names")
        pairs = []
        for name in names:
            value = document.get(name)
            if not isinstance(name, str) or not isinstance(value, str) or not value:
                raise EmfError(f"dimension {name!r} has no string value at the document's top level")
            pairs.append((name, value))
        result.append(tuple(sorted(pairs)))
    return result


def parse_document(document: Mapping[str, Any]) -> list[Datum]:
    """The metrics of one EMF document (raises :class:`EmfError` when CloudWatch would reject it)."""
    meta = document.get("_aws")
    if not isinstance(meta, Mapping):
        raise EmfError("no _aws metadata object")
    stamp = _number(meta.get("Timestamp"))
    directives = meta.get("CloudWatchMetrics")
    if stamp is None or not isinstance(directives, list):
        raise EmfError("_aws needs a numeric Timestamp and a CloudWatchMetrics list")
    datums: list[Datum] = []
    for directive in directives:
        if not isinstance(directive, Mapping) or not isinstance(directive.get("Namespace"), str):
            raise EmfError("a CloudWatchMetrics directive has no Namespace")
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list):
            raise EmfError("a CloudWatchMetrics directive has no Metrics list")
        dimension_sets = _dimension_sets(directive, document)
        for metric in metrics:
            if not isinstance(metric, Mapping) or not isinstance(metric.get("Name"), str):
                raise EmfError("a metric definition has no Name")
            values = _values(document, metric["Name"])
            if not values:
                continue  # no value: CloudWatch extracts nothing for this metric
            resolution = metric.get("StorageResolution", 60)
            if resolution not in (1, 60):
                raise EmfError(f"StorageResolution of {metric['Name']!r} must be 1 or 60")
            unit = metric.get("Unit")
            datums.extend(
                Datum(
                    namespace=directive["Namespace"],
                    name=metric["Name"],
                    dimensions=dimensions,
                    values=values,
                    unit=unit if isinstance(unit, str) else None,
                    storage_resolution=int(resolution),
                    timestamp=stamp / 1000.0,
                )
                for dimensions in dimension_sets
            )
    return datums


def parse_line(line: str) -> list[Datum] | None:
    """``None`` for an ordinary log line; the metrics for an EMF line; :class:`EmfError` if invalid."""
    text = line.strip()
    if not text.startswith("{") or '"_aws"' not in text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, Mapping) or "_aws" not in document:
        return None
    return parse_document(document)
