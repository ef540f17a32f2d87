"""Pure aggregation: a batch of parsed stream records in, per-table metric values out.

What counts where (documented in docs/metrics.md):

- A *user change* is an INSERT, a MODIFY or a REMOVE made by a user. TTL deletes (REMOVE records
  made by DynamoDB's Time to Live process) are counted in ``ttl_deletes`` only: they are not
  ItemChanges, not user activity and not attribute changes. So, per table and batch,
  ``item_changes == sum(by_event) == sum(by_segment)``.
- Attribute changes compare the old and the new image of user changes: INSERT needs the new
  image, REMOVE the old one, MODIFY both (a stream without old images yields no MODIFY diffs).
- Item sizes are DynamoDB's item-size rule applied to the new image of INSERTs and MODIFYs.
- Change lag is ``now - ApproximateCreationDateTime`` of every valid record, in whole
  milliseconds, never negative (the creation time is rounded down to the second by DynamoDB).
- Users are reduced to 64-bit digests at once (:func:`metrics.sketch.hash64`); the user id is
  looked up in the new image, then the old image, then the keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ddbstream import AttributeValue, EventName, Item, RejectedRecord, StreamRecord, item_size_bytes
from ddbstream.values import values_equal
from metrics.settings import Settings
from metrics.sketch import hash64
from telemetry.catalogue import OTHER_SEGMENT, ChangeType


@dataclass(slots=True)
class TableAggregate:
    """What one batch says about one source table."""

    item_changes: int = 0
    by_event: Counter[EventName] = field(default_factory=Counter)
    by_segment: Counter[str] = field(default_factory=Counter)
    ttl_deletes: int = 0
    attribute_changes: Counter[tuple[str, ChangeType]] = field(default_factory=Counter)
    item_sizes: list[int] = field(default_factory=list)
    lags_ms: list[int] = field(default_factory=list)
    malformed: int = 0
    users: dict[str, set[int]] = field(default_factory=dict)
    """Digests of the user ids that made a change, by segment (TTL deletes excluded)."""


def aggregate(
    records: Iterable[StreamRecord],
    rejected: Iterable[RejectedRecord],
    settings: Settings,
    *,
    now: float,
    default_table: str,
) -> dict[str, TableAggregate]:
    """Count a batch. ``now`` is epoch seconds; records without a table ARN count for ``default_table``."""
    tables: dict[str, TableAggregate] = {}
    for record in records:
        table = record.table_name or default_table
        agg = tables.get(table)
        if agg is None:
            agg = tables[table] = TableAggregate()
        _count(agg, record, settings, now)
    for _ in rejected:
        agg = tables.get(default_table)
        if agg is None:
            agg = tables[default_table] = TableAggregate()
        agg.malformed += 1
    return tables


def _count(agg: TableAggregate, record: StreamRecord, settings: Settings, now: float) -> None:
    if record.created_at is not None:
        agg.lags_ms.append(max(0, round((now - record.created_at) * 1000)))
    if record.is_ttl_delete:
        agg.ttl_deletes += 1
        return
    agg.item_changes += 1
    agg.by_event[record.event_name] += 1
    segment = segment_of(record, settings)
    agg.by_segment[segment] += 1
    user = user_id_of(record, settings.user_id_attribute)
    digests = agg.users.setdefault(segment, set())
    if user is not None:
        digests.add(hash64(user))
    if record.new_image is not None:  # INSERT or MODIFY: a REMOVE has no new image
        agg.item_sizes.append(item_size_bytes(record.new_image))
    for attribute in settings.tracked_attributes:
        change = attribute_change(record, attribute)
        if change is not None:
            agg.attribute_changes[(attribute, change)] += 1


def _images(record: StreamRecord) -> tuple[Item | None, ...]:
    """The images to read a descriptive attribute from, most current first."""
    if record.event_name is EventName.REMOVE:
        return (record.old_image,)
    return (record.new_image, record.old_image)


def segment_of(record: StreamRecord, settings: Settings) -> str:
    """One of the configured segment values, or "other" (also when the attribute is missing)."""
    if settings.segment_attribute is None:
        return OTHER_SEGMENT
    for image in _images(record):
        if image is not None and settings.segment_attribute in image:
            value = image[settings.segment_attribute]
            text = value.get("S", value.get("N"))
            return text if isinstance(text, str) and text in settings.segment_values else OTHER_SEGMENT
    return OTHER_SEGMENT


def user_id_of(record: StreamRecord, attribute: str) -> AttributeValue | None:
    for image in (*_images(record), record.keys):
        if image is not None and attribute in image:
            return image[attribute]
    return None


def attribute_change(record: StreamRecord, attribute: str) -> ChangeType | None:
    """How a user change altered one attribute, or None (unchanged, or an image is missing)."""
    old, new = record.old_image, record.new_image
    if record.event_name is EventName.INSERT:
        return ChangeType.ADDED if new is not None and attribute in new else None
    if record.event_name is EventName.REMOVE:
        return ChangeType.REMOVED if old is not None and attribute in old else None
    if old is None or new is None:
        return None
    if attribute not in old:
        return ChangeType.ADDED if attribute in new else None
    if attribute not in new:
        return ChangeType.REMOVED
    return None if values_equal(old[attribute], new[attribute]) else ChangeType.CHANGED
