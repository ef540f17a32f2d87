"""The baseline the metrics consumer is measured against: one EMF document per record.

This is what a first version usually does: for every stream record, a metrics context with the
record's dimensions, its values put one by one, serialized by aws-embedded-metrics. It publishes
less than the real consumer (no distinct users: that cannot be done record by record) and still
costs far more, in CPU and in log bytes (CloudWatch Logs ingestion is billed by the byte).
"""

from __future__ import annotations

import datetime as dt

from aws_embedded_metrics.logger.metrics_context import MetricsContext
from aws_embedded_metrics.serializers.log_serializer import LogSerializer
from aws_embedded_metrics.storage_resolution import StorageResolution

from ddbstream import ParsedBatch, item_size_bytes
from metrics.aggregate import attribute_change, segment_of
from metrics.settings import Settings
from telemetry import catalogue as c


def _context(namespace: str, dimensions: list[dict[str, str]], now: dt.datetime) -> MetricsContext:
    context = MetricsContext(namespace=namespace)
    context.set_dimensions(dimensions, use_default=False)
    context.set_timestamp(now)
    return context


def emit_per_record(batch: ParsedBatch, settings: Settings, now: float) -> list[str]:
    """EMF lines for a batch, one document per record (plus one per attribute change)."""
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    high = StorageResolution.HIGH
    lines: list[str] = []
    for record in batch.records:
        table = record.table_name or "unknown"
        if record.is_ttl_delete:
            context = _context(settings.namespace, [{c.TABLE: table}], moment)
            context.put_metric(c.TTL_DELETES.name, 1, c.TTL_DELETES.unit.value, high)
            lines += LogSerializer.serialize(context)
            continue
        dims = [
            {c.TABLE: table},
            {c.TABLE: table, c.EVENT_NAME: record.event_name.value},
            {c.TABLE: table, c.SEGMENT: segment_of(record, settings)},
        ]
        context = _context(settings.namespace, dims, moment)
        context.put_metric(c.ITEM_CHANGES.name, 1, c.ITEM_CHANGES.unit.value, high)
        if record.new_image is not None:
            context.put_metric(c.ITEM_SIZE.name, item_size_bytes(record.new_image), c.ITEM_SIZE.unit.value)
        if record.created_at is not None:
            lag = max(0, round((now - record.created_at) * 1000))
            context.put_metric(c.CHANGE_LAG.name, lag, c.CHANGE_LAG.unit.value)
        lines += LogSerializer.serialize(context)
        for attribute in settings.tracked_attributes:
            change = attribute_change(record, attribute)
            if change is not None:
                dims = [{c.TABLE: table, c.ATTRIBUTE: attribute, c.CHANGE_TYPE: change.value}]
                context = _context(settings.namespace, dims, moment)
                context.put_metric(c.ATTRIBUTE_CHANGES.name, 1, c.ATTRIBUTE_CHANGES.unit.value, high)
                lines += LogSerializer.serialize(context)
    for _ in batch.rejected:
        context = _context(settings.namespace, [{c.TABLE: "unknown"}], moment)
        context.put_metric(c.MALFORMED_RECORDS.name, 1, c.MALFORMED_RECORDS.unit.value, high)
        lines += LogSerializer.serialize(context)
    return lines
