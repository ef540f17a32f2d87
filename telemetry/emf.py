"""Build Embedded Metric Format documents for catalogue metrics, purely.

aws-embedded-metrics does the serialising (``MetricsContext`` + ``LogSerializer``); this module adds
what the library leaves to callers: the dimension set must be one the catalogue declares for every
metric in the document, and a distribution of more than 100 values is published whole, as
value/count histograms.

Distributions. EMF takes at most 100 entries per metric value. Up to 100 values are published as
a plain array (each value one sample). Above that, the values are counted into a histogram of
distinct values (:func:`histogram`) and published in the EMF histogram form that AWS's own EMF
library writes (aws-embedded-metrics-java, ``model/Histogram.java``: ``{"Values": [...],
"Counts": [...], "Max", "Min", "Count", "Sum"}``, at most 100 bins per metric and document),
split into as many documents as there are chunks of 100 distinct values. Nothing is sampled or
rounded: CloudWatch sees every value with its multiplicity, so percentiles, ``SampleCount`` and
``Sum`` are those of the batch. aws-embedded-metrics 3.5.0 (Python) knows only plain arrays, so
the histogram member replaces a placeholder value in the document the library built.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aws_embedded_metrics.logger.metrics_context import MetricsContext
from aws_embedded_metrics.serializers.log_serializer import LogSerializer
from aws_embedded_metrics.storage_resolution import StorageResolution

from telemetry.catalogue import MetricSpec

MAX_VALUES = 100
"""EMF's limit on values (or histogram bins) of one metric in one document."""

MetricValue = float | Sequence[float]


@dataclass(frozen=True, slots=True)
class Histogram:
    """Distinct values with how often each occurred, ascending by value."""

    bins: tuple[tuple[float, int], ...]

    def member(self) -> dict[str, object]:
        """The EMF histogram member (aws-embedded-metrics-java's field names)."""
        values = [value for value, _ in self.bins]
        counts = [count for _, count in self.bins]
        return {
            "Values": values,
            "Counts": counts,
            "Max": max(values),
            "Min": min(values),
            "Count": sum(counts),
            "Sum": sum(value * count for value, count in self.bins),
        }


def histogram(values: Iterable[float]) -> Histogram:
    """Every distinct value with its count: nothing is lost but the order of arrival."""
    return Histogram(tuple(sorted(Counter(values).items())))


def histogram_chunks(values: Sequence[float], limit: int = MAX_VALUES) -> list[Histogram]:
    """The histogram of ``values`` in chunks of at most ``limit`` bins (one chunk per document)."""
    whole = histogram(values).bins
    return [Histogram(whole[start : start + limit]) for start in range(0, len(whole), limit)]


def _parts(value: MetricValue) -> list[list[float] | Histogram]:
    """What one metric contributes to each document: a value list, or a histogram chunk."""
    if not isinstance(value, Sequence):
        return [[float(value)]]
    if len(value) <= MAX_VALUES:
        return [[float(v) for v in value]] if value else []
    return list(histogram_chunks(value))


def document_lines(
    namespace: str,
    dimensions: Mapping[str, str],
    metrics: Iterable[tuple[MetricSpec, MetricValue]],
    *,
    timestamp: dt.datetime | None = None,
) -> list[str]:
    """EMF JSON lines for metrics that share one dimension set.

    One line, unless a distribution has more than 100 distinct values: then one line per chunk of
    100 (the other metrics ride in the first).
    """
    names = tuple(sorted(dimensions))
    parts: list[tuple[MetricSpec, list[list[float] | Histogram]]] = []
    for spec, value in metrics:
        if names not in {tuple(sorted(dims)) for dims in spec.dimension_sets}:
            raise ValueError(
                f"{spec.name} is not published with dimensions {names} in telemetry/catalogue.py"
            )
        parts.append((spec, _parts(value)))
    documents = max((len(chunks) for _, chunks in parts), default=0)
    lines: list[str] = []
    for index in range(documents):
        context = MetricsContext(namespace=namespace)
        context.set_dimensions([dict(dimensions)], use_default=False)
        if timestamp is not None:
            context.set_timestamp(timestamp)
        histograms: dict[str, Histogram] = {}
        for spec, chunks in parts:
            if index >= len(chunks):
                continue
            resolution = StorageResolution.HIGH if spec.high_resolution else StorageResolution.STANDARD
            chunk = chunks[index]
            if isinstance(chunk, Histogram):
                histograms[spec.name] = chunk
                chunk = [chunk.bins[0][0]]  # a placeholder the histogram member replaces below
            for point in chunk:
                context.put_metric(spec.name, point, spec.unit.value, resolution)
        for serialized in LogSerializer.serialize(context):
            if not histograms:
                lines.append(serialized)
                continue
            document = json.loads(serialized)
            for name, chunk in histograms.items():
                document[name] = chunk.member()
            lines.append(json.dumps(document))
    return lines
