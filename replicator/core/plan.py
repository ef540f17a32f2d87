"""What a batch of stream records requires of the replica: a pure function, no I/O.

Within a batch only the newest state of each key needs writing (Lambda delivers a shard's records
in order, and every write is conditional on its version, so skipping intermediate states cannot
leave the replica behind). Each key therefore gets at most one :class:`Write`; older records of the
same key ride along as ``superseded`` and share its fate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ddbstream import AttributeValue, Item, ParsedBatch, StreamRecord
from ddbstream.errors import MalformedRecord
from replicator.core import version
from replicator.core.errors import ExcludedKeyAttribute, MalformedInput, PoisonRecord
from replicator.core.policy import Policy
from replicator.core.view import replicated_view
from telemetry.catalogue import SkipReason


class Action(enum.StrEnum):
    PUT = "put"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Write:
    """One conditional write: the newest state of a key in this batch, at that record's version."""

    record: StreamRecord
    action: Action
    item: Item | None
    """The attributes to store (excluded and legacy attributes removed); None for a delete."""
    version: str
    superseded: tuple[StreamRecord, ...] = ()

    @property
    def keys(self) -> Item:
        return self.record.keys

    @property
    def key_hash(self) -> str:
        return self.record.key_hash


@dataclass(frozen=True, slots=True)
class Skipped:
    record: StreamRecord
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that can never be written; ``sequence_number`` is None when the record had none."""

    sequence_number: str | None
    key_hash: str | None
    error: PoisonRecord


@dataclass(frozen=True, slots=True)
class Plan:
    writes: tuple[Write, ...]
    skipped: tuple[Skipped, ...]
    rejected: tuple[Rejected, ...]
    max_sequence: int | None
    """The highest valid sequence number in the batch (the replicator's high-water mark)."""
    first_sequence_number: str | None
    """The lowest valid sequence number, as received: where Lambda resumes to redo the whole batch."""

    @property
    def record_count(self) -> int:
        return (
            len(self.writes)
            + sum(len(write.superseded) for write in self.writes)
            + len(self.skipped)
            + len(self.rejected)
        )


def _filtered_image(record: StreamRecord, policy: Policy) -> dict[str, AttributeValue]:
    try:
        image = record.require_new_image()
    except MalformedRecord as exc:
        raise MalformedInput(exc.reason) from exc
    missing = [name for name in record.keys if name not in image]
    if missing:
        raise MalformedInput("NewImage lacks the record's key attributes")
    return replicated_view(image, policy.exclude_attributes)


def _write_for(record: StreamRecord, policy: Policy) -> Write | SkipReason:
    """The write one record asks for on its own, or why it needs none. Raises PoisonRecord."""
    excluded_keys = policy.exclude_attributes.intersection(record.keys)
    if excluded_keys:
        raise ExcludedKeyAttribute("EXCLUDE_ATTRIBUTES names a key attribute; keys are always copied")
    try:
        record_version = version.encode(record.sequence)
    except ValueError as exc:
        raise MalformedInput(str(exc)) from exc
    if record.is_removal:
        if record.is_ttl_delete and policy.ttl_policy.skips_ttl_deletes:
            return SkipReason.TTL_POLICY
        return Write(record, Action.DELETE, None, record_version)
    return Write(record, Action.PUT, _filtered_image(record, policy), record_version)


def plan_batch(batch: ParsedBatch, policy: Policy) -> Plan:
    """Decide, for every record of a batch, whether it is written, skipped or rejected."""
    newest: dict[str, Write] = {}
    superseded: dict[str, list[StreamRecord]] = {}
    skipped: list[Skipped] = []
    rejected = [
        Rejected(bad.sequence_number, None, MalformedInput(bad.error.reason)) for bad in batch.rejected
    ]
    for record in sorted(batch.records, key=lambda r: r.sequence):
        try:
            outcome = _write_for(record, policy)
        except PoisonRecord as exc:
            rejected.append(Rejected(record.sequence_number, record.key_hash, exc))
            continue
        if isinstance(outcome, SkipReason):
            skipped.append(Skipped(record, outcome))
            continue
        previous = newest.get(record.key_id)
        if previous is not None:
            superseded.setdefault(record.key_id, []).append(previous.record)
        newest[record.key_id] = outcome
    writes = tuple(
        Write(w.record, w.action, w.item, w.version, tuple(superseded.get(key, ())))
        for key, w in newest.items()
    )
    first = min(batch.records, key=lambda r: r.sequence, default=None)
    last = max(batch.records, key=lambda r: r.sequence, default=None)
    return Plan(
        writes=writes,
        skipped=tuple(skipped),
        rejected=tuple(rejected),
        max_sequence=last.sequence if last else None,
        first_sequence_number=first.sequence_number if first else None,
    )
