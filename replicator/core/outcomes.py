"""What happened to each write, as the adapters report it to the pure summary. No I/O.

``Outcome`` is what a conditional write found (the replica's answer decoded); ``WriteResult`` and
``ApplyResult`` carry a whole plan's results to :func:`replicator.core.report.summarise`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from replicator.core.plan import Write


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    STALE = "stale"
    DELETED_LATER = "deleted_later"


@dataclass(frozen=True, slots=True)
class WriteResult:
    write: Write
    outcome: Outcome | None
    error: Exception | None
    acknowledged_at: float | None
    """Wall-clock time the replica confirmed the write (epoch seconds), for replication lag."""


@dataclass(frozen=True, slots=True)
class Capacity:
    """Request units the replica region reported consumed (``ReturnConsumedCapacity``)."""

    write_units: float = 0.0
    read_units: float = 0.0

    def __add__(self, other: Capacity) -> Capacity:
        return Capacity(self.write_units + other.write_units, self.read_units + other.read_units)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    results: tuple[WriteResult, ...]
    watermark_error: Exception | None
    throttled_attempts: int
    capacity: Capacity = Capacity()
