"""Two corrections to moto's CloudWatch, so the AWS CLI against the embedded server tells the truth.

CloudWatch identifies a metric by its namespace, name and its *whole* set of dimensions
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension).
moto 5.2 gets two things wrong that a person running ``aws cloudwatch`` against the demo would see:

* ``ListMetrics`` lists a metric with two or more dimensions once per data point: its duplicate
  check compares every dimension with every other one, so it never finds two sets equal.
* ``GetMetricStatistics`` counts every metric whose dimensions *include* the requested ones:
  asking for ``TableName=Users`` also sums the ``TableName, Operation`` series, so a total is
  counted twice. CloudWatch answers only the metric with exactly those dimensions ("you must
  specify the same dimensions that were used when the metrics were created", GetMetricStatistics
  API reference).

:func:`install` patches both, once per process; the embedded server calls it when it starts.
``GetMetricData`` already matches exact dimension sets in moto.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from moto.cloudwatch import models

_installed = False
_lock = threading.Lock()


def _dimension_set(dimensions: Sequence[Any]) -> frozenset[tuple[str, str | None]]:
    return frozenset((d.name, d.value) for d in dimensions)


def _same_dimensions(first: Sequence[Any], second: Sequence[Any]) -> bool:
    return _dimension_set(first) == _dimension_set(second)


def _exact_statistics(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_metric_statistics(self: Any, *args: Any, **kwargs: Any) -> Any:
        # moto 5.2.5's responses pass (namespace, metric_name, start, end, period, stats,
        # dimensions, unit) by position.
        dimensions = kwargs.get("dimensions", args[6] if len(args) > 6 else [])
        wanted = frozenset((d["Name"], d.get("Value")) for d in dimensions or [])
        every_metric = self.get_all_metrics
        # The embedded server serves one request at a time, so shadowing the method on the
        # backend for the duration of this call cannot affect another request.
        self.get_all_metrics = lambda: [m for m in every_metric() if _dimension_set(m.dimensions) == wanted]
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.get_all_metrics

    return get_metric_statistics


def install() -> None:
    """Patch moto's CloudWatch backend (idempotent)."""
    global _installed  # noqa: PLW0603 - a process-wide patch, applied once
    with _lock:
        if _installed:
            return
        models.are_dimensions_same = _same_dimensions  # type: ignore[assignment]
        backend = models.CloudWatchBackend
        backend.get_metric_statistics = _exact_statistics(backend.get_metric_statistics)  # type: ignore[method-assign]
        _installed = True
