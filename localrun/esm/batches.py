"""Pure rules for cutting batches out of the records read from a shard.

A batch holds at most ``BatchSize`` records and stays under Lambda's 6 MB invocation payload; with a
tumbling window it never spans two windows (each invocation carries one window's state).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from localrun.esm.records import PendingRecord
from localrun.esm.settings import MappingSettings

_ENVELOPE_BYTES = 1024
"""Room for ``{"Records": [...]}`` plus the tumbling-window fields around the records."""


def window_start(created_at: float | None, size_seconds: int, *, now: float) -> int:
    """Start (epoch seconds) of the tumbling window a record belongs to; windows align to the epoch."""
    moment = created_at if created_at is not None else now
    return int(math.floor(moment / size_seconds) * size_seconds)


def batch_length(pending: Sequence[PendingRecord], settings: MappingSettings, *, now: float) -> int:
    """How many of the leading ``pending`` records one invocation may carry (at least one)."""
    if not pending:
        return 0
    limit = min(settings.batch_size, len(pending))
    payload = _ENVELOPE_BYTES + pending[0].size_bytes
    first_window = (
        window_start(pending[0].created_at, settings.tumbling_window_seconds, now=now)
        if settings.windowed
        else None
    )
    count = 1
    while count < limit:
        record = pending[count]
        if payload + record.size_bytes + 1 > settings.max_payload_bytes:
            break
        if first_window is not None and (
            window_start(record.created_at, settings.tumbling_window_seconds, now=now) != first_window
        ):
            break
        payload += record.size_bytes + 1
        count += 1
    return count


def batch_is_ready(
    pending: Sequence[PendingRecord],
    settings: MappingSettings,
    *,
    now: float,
    first_buffered_at: float,
) -> bool:
    """Invoke now, or keep gathering records (MaximumBatchingWindowInSeconds)?

    A batch goes as soon as it is full (by count, payload size or window boundary), or when the
    batching window has passed since its first record was read. With a window of zero, any records
    go at once.
    """
    length = batch_length(pending, settings, now=now)
    if length == 0:
        return False
    if length < len(pending) or length == settings.batch_size:
        return True
    return now - first_buffered_at >= settings.batching_window_seconds


def halves(records: Sequence[PendingRecord]) -> tuple[list[PendingRecord], list[PendingRecord]]:
    """BisectBatchOnFunctionError: the first half (the larger one when odd) and the rest."""
    middle = (len(records) + 1) // 2
    return list(records[:middle]), list(records[middle:])


def expired_prefix(records: Sequence[PendingRecord], *, now: float, max_age_seconds: int) -> int:
    """How many leading records are older than MaximumRecordAgeInSeconds (-1: none ever are)."""
    if max_age_seconds < 0:
        return 0
    count = 0
    for record in records:
        if record.created_at is None or now - record.created_at <= max_age_seconds:
            break
        count += 1
    return count
