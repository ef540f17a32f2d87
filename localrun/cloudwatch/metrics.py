"""Metrics of the local run: published to CloudWatch, and kept locally for percentiles.

CloudWatch in the embedded server answers Sum, Average, Minimum, Maximum and SampleCount but fails
on percentiles, so every raw value is also kept here; the renderer and the demo summary compute p50
and p99 from these. Datums are buffered and sent in batches (:meth:`MetricsHub.flush`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from localrun.cloudwatch.emf import Datum

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

log = logging.getLogger(__name__)

SeriesKey = tuple[str, str, str, tuple[tuple[str, str], ...]]
"""(region, namespace, metric name, sorted dimensions)"""

_MAX_DATA_PER_REQUEST = 1000
_MAX_VALUES_PER_DATUM = 150


def series_key(region: str, namespace: str, name: str, dimensions: Iterable[tuple[str, str]]) -> SeriesKey:
    return (region, namespace, name, tuple(sorted(dimensions)))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile, as CloudWatch computes it on raw values."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def _entry(datum: Datum, values: list[tuple[float, int]]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "MetricName": datum.name,
        "Dimensions": [{"Name": name, "Value": value} for name, value in datum.dimensions],
        "Timestamp": dt.datetime.fromtimestamp(datum.timestamp, dt.UTC),
        "Values": [value for value, _ in values],
        "Counts": [float(count) for _, count in values],
        "StorageResolution": datum.storage_resolution,
    }
    if datum.unit:
        entry["Unit"] = datum.unit
    return entry


class MetricsHub:
    """Thread-safe buffer between metric producers and CloudWatch (``cloudwatch(region)``)."""

    def __init__(self, cloudwatch: Callable[[str], CloudWatchClient] | None = None) -> None:
        self._cloudwatch = cloudwatch
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Datum]] = []
        self._samples: dict[SeriesKey, list[tuple[float, float]]] = defaultdict(list)

    def add(self, region: str, datums: Iterable[Datum]) -> None:
        with self._lock:
            for datum in datums:
                self._pending.append((region, datum))
                samples = self._samples[series_key(region, datum.namespace, datum.name, datum.dimensions)]
                samples.extend((datum.timestamp, value) for value in datum.values)

    def samples(
        self, key: SeriesKey, start: float | None = None, end: float | None = None
    ) -> list[tuple[float, float]]:
        """``(timestamp, value)`` pairs of one series, optionally within ``[start, end)``."""
        with self._lock:
            found = list(self._samples.get(key, ()))
        return [(t, v) for t, v in found if (start is None or t >= start) and (end is None or t < end)]

    def total(self, key: SeriesKey) -> float:
        return sum(value for _, value in self.samples(key))

    def flush(self) -> int:
        """Send everything buffered; returns the number of datums CloudWatch accepted."""
        with self._lock:
            pending, self._pending = self._pending, []
        if self._cloudwatch is None or not pending:
            return 0
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for region, datum in pending:
            distinct = sorted(Counter(datum.values).items())
            for start in range(0, len(distinct), _MAX_VALUES_PER_DATUM):
                groups[(region, datum.namespace)].append(
                    _entry(datum, distinct[start : start + _MAX_VALUES_PER_DATUM])
                )
        accepted = 0
        for (region, namespace), entries in groups.items():
            client = self._cloudwatch(region)
            for start in range(0, len(entries), _MAX_DATA_PER_REQUEST):
                chunk = entries[start : start + _MAX_DATA_PER_REQUEST]
                try:
                    client.put_metric_data(Namespace=namespace, MetricData=chunk)  # type: ignore[arg-type]
                    accepted += len(chunk)
                except (ClientError, BotoCoreError) as exc:
                    log.warning(
                        "CloudWatch refused %d datums of %s in %s: %s", len(chunk), namespace, region, exc
                    )
        return accepted
