"""Build Embedded Metric Format documents for catalogue metrics, purely.

aws-embedded-metrics does the serialising (``MetricsContext`` + ``LogSerializer``, which also keeps
each document within 100 metrics and 100 values per metric); this module adds what the library
leaves to callers: the dimension set must be one the catalogue declares for every metric in the
document, and distributions are reduced to at most 100 representative values so that one
invocation writes one document per dimension set however large its batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from aws_embedded_metrics.logger.metrics_context import MetricsContext
from aws_embedded_metrics.serializers.log_serializer import LogSerializer
from aws_embedded_metrics.storage_resolution import StorageResolution

from telemetry.catalogue import MetricSpec

MAX_VALUES = 100

MetricValue = float | Sequence[float]


def downsample(values: Sequence[float], limit: int = MAX_VALUES) -> list[float]:
    """At most ``limit`` values with the same distribution: evenly spaced order statistics.

    Minimum and maximum are always kept, so ``Maximum`` stays exact and percentiles are off by at
    most one rank in ``limit``. ``SampleCount`` and ``Sum`` of a downsampled series describe the
    representatives, not the records; record counts are published as their own Count metrics.
    """
    if len(values) <= limit:
        return list(values)
    ordered = sorted(values)
    last = len(ordered) - 1
    return [ordered[round(i * last / (limit - 1))] for i in range(limit)]


def document_lines(
    namespace: str,
    dimensions: Mapping[str, str],
    metrics: Iterable[tuple[MetricSpec, MetricValue]],
    *,
    timestamp: dt.datetime | None = None,
) -> list[str]:
    """EMF JSON lines for metrics that share one dimension set (normally exactly one line)."""
    names = tuple(sorted(dimensions))
    context = MetricsContext(namespace=namespace)
    context.set_dimensions([dict(dimensions)], use_default=False)
    if timestamp is not None:
        context.set_timestamp(timestamp)
    for spec, value in metrics:
        if names not in {tuple(sorted(dims)) for dims in spec.dimension_sets}:
            raise ValueError(
                f"{spec.name} is not published with dimensions {names} in telemetry/catalogue.py"
            )
        resolution = StorageResolution.HIGH if spec.high_resolution else StorageResolution.STANDARD
        points = downsample(value) if isinstance(value, Sequence) else [value]
        for point in points:
            context.put_metric(spec.name, point, spec.unit.value, resolution)
    if not context.metrics:
        return []
    return LogSerializer.serialize(context)
