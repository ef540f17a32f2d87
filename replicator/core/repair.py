"""The version a repair or backfill writes, decided purely from what the replica holds.

The rule and why it is safe are in :mod:`replicator.adapters.reconcile`, which performs the reads and
the compare-and-set write.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from replicator.core import version
from replicator.core.version import stored_version


class RepairOutcome(enum.StrEnum):
    WRITTEN = "written"
    DELETED = "deleted"
    UNCHANGED = "unchanged"  # nothing to do: both sides already absent
    CONFLICT = "conflict"  # the replica changed since it was read; read again and retry


@dataclass(frozen=True, slots=True)
class ReplicaState:
    """What the replica holds for one key, read consistently."""

    item: dict[str, Any] | None
    tombstone_version: str | None

    @property
    def item_version(self) -> str | None:
        return stored_version(self.item)


def repair_version(state: ReplicaState, watermark: str | None) -> str:
    """The version a repair writes: the highest of the item's, the tombstone's and the mark."""
    candidates = [v for v in (state.item_version, state.tombstone_version, watermark) if v]
    return max(candidates, default=version.ZERO)
