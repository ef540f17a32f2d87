"""The actors that can touch a replica key, each advanced one DynamoDB request at a time.

A state machine interleaves them: a stepped replicator invocation (the live path, or redrive's
guarded path), an operator's repair and backfill of one key, and the late requests a crashed
invocation left on the wire. Each :meth:`step` sends exactly one request and says what it was, so
a read and the write that depends on it are two steps with anything in between.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ddbstream import Item, parse_event
from replicator.adapters.reconcile import Reconciler
from replicator.adapters.writer import ReplicaWriter
from replicator.core import protocol, version
from replicator.core import repair as repair_rules
from replicator.core.plan import Action, plan_batch
from replicator.core.policy import Policy
from replicator.core.protocol import UNKNOWN, Call, Steps, Tombstone
from replicator.core.repair import RepairOutcome, ReplicaState
from replicator.core.version import stored_version
from replicator.core.view import replicated_view

NOTHING = ReplicaState(item=None, tombstone_version=None)


class Kind(enum.StrEnum):
    """What a step did, as far as exposing a deleted item is concerned."""

    READ = "read"
    PUT = "put"  # a plain conditional put of the live path, after its tombstone was read
    FAST_PUT = "fast-put"  # the MODIFY fast path: a put over an existing older item
    TOMBSTONE = "tombstone"  # a REMOVE's first write: the item is still there until its delete
    DELETE = "delete"
    MARK = "mark"
    GUARDED = "guarded"  # a transaction: item and tombstone checked or written together
    LATE = "late"  # a request of a crashed invocation, executed after the crash


@dataclass(frozen=True, slots=True)
class Did:
    kind: Kind
    key_hash: str | None = None
    seen_tombstone: str | None = None
    """For a PUT: the tombstone version its conversation read before writing."""


def _kind(call: Call, tables: protocol.ReplicaTables) -> Kind:
    operation, params = call.operation, call.params
    if operation in {"GetItem", "BatchGetItem"}:
        return Kind.READ
    if operation == "TransactWriteItems":
        return Kind.GUARDED
    if operation == "UpdateItem":
        return Kind.MARK
    if operation == "DeleteItem":
        return Kind.DELETE
    if params["TableName"] == tables.state:
        return Kind.TOMBSTONE
    condition = params.get("ConditionExpression")
    return Kind.FAST_PUT if condition == protocol.PUT_OVER_OLDER else Kind.PUT


class Stepped:
    """An actor: :meth:`step` sends its next request and says what it did; None once it is done."""

    done = False

    def _run(self) -> Iterator[Did]:
        raise NotImplementedError

    def step(self) -> Did | None:
        if not hasattr(self, "_steps"):
            self._steps = self._run()
        try:
            return next(self._steps)
        except StopIteration:
            self.done = True
            return None


class Invocation(Stepped):
    """One replicator invocation over a batch, stepped: the batch's tombstone read, then each
    key's conversation (one request per step), then the high-water mark.

    ``guarded``: redrive's writer (transactional puts, no mark). A crash leaves the request the
    invocation was about to send in :attr:`in_flight`: it may still reach DynamoDB later.
    """

    def __init__(
        self, writer: ReplicaWriter, batch: list[dict[str, Any]], source_table: str, *, policy: Policy
    ) -> None:
        self.writer = writer
        self.plan = plan_batch(parse_event({"Records": batch}), policy)
        self.batch = batch
        self.source_table = source_table
        self.in_flight: Call | None = None

    def _run(self) -> Iterator[Did]:
        writer, plan = self.writer, self.plan
        known: dict[str, str] = {}
        inserts = protocol.inserted_keys(plan.writes)
        if inserts and not writer.guarded_puts:
            for call in protocol.tombstone_reads(writer.tables, inserts):
                self.in_flight = call
                found = protocol.batch_versions(writer.tables.state, writer.send(call))
                known.update(protocol.tombstones_by_hash(found))
                self.in_flight = None
                yield Did(Kind.READ)
        for write in plan.writes:
            tombstone: Tombstone = known.get(write.key_hash) if write.key_hash in inserts else UNKNOWN
            if writer.guarded_puts and write.action is Action.PUT:
                steps: Steps[Any] = protocol.guarded_put(writer.tables, write)
            else:
                steps = protocol.replicate(writer.tables, write, tombstone=tombstone, now=writer.now())
            yield from self._converse(steps, write.key_hash, tombstone)
        if plan.max_sequence is not None and not writer.guarded_puts:
            mark = version.encode(plan.max_sequence)
            yield from self._converse(
                protocol.raise_watermark(writer.tables, self.source_table, writer.bucket, mark), None, None
            )

    def _converse(self, steps: Steps[Any], key_hash: str | None, tombstone: Tombstone) -> Iterator[Did]:
        seen = tombstone if isinstance(tombstone, str) else None
        try:
            call = next(steps)
            while True:
                self.in_flight = call
                reply = self.writer.send(call)
                self.in_flight = None
                kind = _kind(call, self.writer.tables)
                if call.operation == "GetItem":
                    seen = stored_version(reply.body.get("Item"))
                yield Did(kind, key_hash, seen)
                call = steps.send(reply)
        except StopIteration:
            return

    def crash(self) -> Call | None:
        """The runtime dies: nothing more is sent, except what was already on the wire."""
        self.done = True
        return self.in_flight


class Repair(Stepped):
    """``python -m replicator repair`` of one key, one request per step (reconcile.py's rule)."""

    def __init__(
        self,
        reconciler: Reconciler,
        keys: Item,
        read_source: Callable[[], Mapping[str, Any] | None],
        source_table: str,
        on_write: Callable[[str, Mapping[str, Any] | None], None],
        *,
        backfill: bool = False,
    ) -> None:
        self.reconciler, self.keys, self.read_source = reconciler, keys, read_source
        self.source_table, self.on_write, self.backfill = source_table, on_write, backfill
        self.outcome: RepairOutcome | None = None

    def _run(self) -> Iterator[Did]:
        for _ in range(3):
            mark = self.reconciler.read_watermark(self.source_table)
            yield Did(Kind.READ)
            if self.backfill:
                observed = NOTHING
            else:
                observed = self.reconciler.read_state(self.keys)
                yield Did(Kind.READ)
            source = self.read_source()
            yield Did(Kind.READ)
            if self.backfill and source is None:
                return
            view = None if source is None else replicated_view(dict(source), frozenset())
            new_version = (
                (mark or version.ZERO) if self.backfill else repair_rules.repair_version(observed, mark)
            )
            self.outcome = self.reconciler.write_current_state(self.keys, observed, view, new_version)
            if self.outcome is not RepairOutcome.CONFLICT:
                if self.outcome is not RepairOutcome.UNCHANGED:
                    self.on_write(new_version, view)
                yield Did(Kind.GUARDED)
                return
            yield Did(Kind.GUARDED)
            if self.backfill:
                return  # backfill never overwrites what replication wrote
