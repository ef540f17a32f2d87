"""EMF documents as aws-embedded-metrics itself prints them (its serializer), not hand-written."""

from __future__ import annotations

from aws_embedded_metrics.logger.metrics_context import MetricsContext
from aws_embedded_metrics.serializers.log_serializer import LogSerializer
from aws_embedded_metrics.storage_resolution import StorageResolution


def emf_lines(
    metrics: dict[str, list[float]], dimensions: dict[str, str], namespace: str = "DynamoDBUsage"
) -> list[str]:
    """One document per serializer line: ``metrics`` (in milliseconds) under one dimension set."""
    context = MetricsContext.empty()
    context.namespace = namespace
    context.put_dimensions(dimensions)
    for name, values in metrics.items():
        for value in values:
            context.put_metric(name, value, "Milliseconds", StorageResolution.STANDARD)
    return list(LogSerializer.serialize(context))
