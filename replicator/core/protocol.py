"""The replica write protocol as pure steps: which request to send next, and what its answer means.

Every write the replicator makes is a short conversation with DynamoDB: a tombstone read, then a
conditional put; a tombstone put, then a conditional delete. Each conversation is written here as
a generator that *yields* one :class:`Call` (a DynamoDB operation and its parameters) and is
*sent* the :class:`Reply`, until it *returns* the :class:`~replicator.core.outcomes.Outcome`. No
I/O happens here: ``replicator.adapters.writer`` runs the calls against the replica region, and
the Hypothesis state machine runs them one at a time, interleaved with every other actor that can
touch the same key, so a race between a read and the write that depends on it is something the
proof explores rather than something it hopes away. The rules and the safety argument are in
docs/design.md ("Write rules").

Requests use ``ReturnConsumedCapacity=TOTAL`` so the replicator can report what it costs.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from ddbstream import EventName
from replicator.core import schema
from replicator.core.errors import ConfigurationError, Throttled
from replicator.core.outcomes import Outcome
from replicator.core.plan import Action, Write
from replicator.core.version import stored_version

T = TypeVar("T")

NEWER: Final = "attribute_not_exists(#v) OR #v < :v"
"""Absent, unversioned, or older than the incoming version."""
OLDER_THERE: Final = "#v < :v"
"""Present and older: the condition of the MODIFY fast path (an absent item fails it)."""

# One name per use, though several share a text: each is a rule of its own (a planted bug or a
# mutant changes exactly one, and the tests must notice which).
PUT_OVER_OLDER = OLDER_THERE
PUT_IF_NEWER = NEWER
TOMBSTONE_IF_NEWER = NEWER
DELETE_IF_OLDER = "attribute_exists(#k) AND (attribute_not_exists(#v) OR #v < :v)"
"""Present, and unversioned or older: a delete that removes nothing is not accepted (``#k`` is a key
attribute), so every delete DynamoDB accepts really removed an older item."""
MARK_IF_HIGHER = NEWER
_NAMES: Final = {"#v": schema.VERSION_ATTRIBUTE}
BATCH_GET_LIMIT: Final = 100
"""BatchGetItem reads at most 100 items per request (DynamoDB API reference)."""


def batches(items: Sequence[T], size: int = BATCH_GET_LIMIT) -> list[Sequence[T]]:
    """``items`` in order, in runs of at most ``size`` (a BatchGetItem's keys, by default)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


@dataclass(frozen=True, slots=True)
class Call:
    """One DynamoDB request: the operation name (as in the API) and its parameters."""

    operation: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """DynamoDB's answer: the response, or, when a condition failed, the error response."""

    body: Mapping[str, Any] = field(default_factory=dict)
    condition_failed: bool = False


Steps = Generator[Call, Reply, T]


class _Unknown:
    """Marks a tombstone nobody has read yet (the writer reads it itself)."""

    def __repr__(self) -> str:
        return "UNKNOWN"  # pragma: no mutate (only read in a failing test's output)


UNKNOWN: Final = _Unknown()
Tombstone = str | None | _Unknown
"""What is known of a key's tombstone before its put: its version, None (no tombstone), or UNKNOWN."""


@dataclass(frozen=True, slots=True)
class ReplicaTables:
    """Where the protocol writes: the replica table and its state table, and tombstone retention."""

    replica: str
    state: str
    tombstone_retention_seconds: int
    watermark_buckets: int = schema.WATERMARK_BUCKETS

    def __post_init__(self) -> None:
        # Enforced where tombstones are written, so no caller (handler, CLI, tests) can bypass it.
        low, high = schema.MIN_TOMBSTONE_RETENTION_HOURS, schema.MAX_TOMBSTONE_RETENTION_HOURS
        if not low * 3600 <= self.tombstone_retention_seconds <= high * 3600:
            raise ConfigurationError(
                f"tombstone retention must be between {low} and {high} hours (longer than the stream's "
                f"24 h, or a replayed INSERT could resurrect a deleted item); "
                f"got {self.tombstone_retention_seconds / 3600:g} hours"
            )
        if self.watermark_buckets < 1:
            raise ConfigurationError("the high-water mark needs at least one bucket")

    def tombstone_key(self, key_hash: str) -> dict[str, Any]:
        return {schema.STATE_PARTITION_KEY: {"S": schema.tombstone_pk(key_hash)}}

    def tombstone_item(self, key_hash: str, version: str, now: float) -> dict[str, Any]:
        """The state-table row recording that a key was deleted at ``version``; it expires later."""
        return {
            **self.tombstone_key(key_hash),
            schema.VERSION_ATTRIBUTE: {"S": version},
            schema.STATE_TTL_ATTRIBUTE: {"N": str(int(now) + self.tombstone_retention_seconds)},
        }

    def watermark_keys(self, source_table: str) -> list[dict[str, Any]]:
        """Every item the mark may live in: each bucket, and the single item of older releases."""
        buckets: list[int | None] = [*range(self.watermark_buckets), None]
        return [{schema.STATE_PARTITION_KEY: {"S": schema.watermark_pk(source_table, b)}} for b in buckets]


def _compare(stored: str, incoming: str) -> Outcome:
    return Outcome.ALREADY_APPLIED if stored == incoming else Outcome.STALE


_TOTAL: Final = {"ReturnConsumedCapacity": "TOTAL"}
"""Asked of every request (a transaction's actions take it once, on the request)."""


def _condition(condition: str, version: str) -> dict[str, Any]:
    return {
        "ConditionExpression": condition,
        "ExpressionAttributeNames": _NAMES,
        "ExpressionAttributeValues": {":v": {"S": version}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _conditional(condition: str, version: str) -> dict[str, Any]:
    """A single conditional request's parameters: the condition, and the capacity it used."""
    return {**_condition(condition, version), **_TOTAL}


def deleted_later(tombstone: str | None, version: str) -> bool:
    """Whether a tombstone forbids a put at ``version``: a delete at or above it was replicated."""
    return tombstone is not None and tombstone >= version


def _found(reply: Reply) -> str | None:
    """The version a failed condition found (None: the item is absent or unversioned)."""
    return stored_version(reply.body.get("Item"))


# -- reads --------------------------------------------------------------------------------------


def read_tombstone(tables: ReplicaTables, key_hash: str) -> Steps[str | None]:
    """One strongly consistent read of a key's tombstone: its version, or None."""
    reply = yield Call(
        "GetItem",
        {
            "TableName": tables.state,
            "Key": tables.tombstone_key(key_hash),
            "ConsistentRead": True,
            "ProjectionExpression": "#v",
            "ExpressionAttributeNames": _NAMES,
            **_TOTAL,
        },
    )
    return stored_version(reply.body.get("Item"))


def batch_get(table: str, keys: Iterable[Mapping[str, Any]]) -> Call:
    """One strongly consistent BatchGetItem of at most :data:`BATCH_GET_LIMIT` state-table keys."""
    keys = list(keys)
    if not 0 < len(keys) <= BATCH_GET_LIMIT:
        raise ValueError(f"a BatchGetItem reads 1 to {BATCH_GET_LIMIT} keys; got {len(keys)}")
    return Call(
        "BatchGetItem",
        {
            "RequestItems": {
                table: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": "#pk, #v",
                    "ExpressionAttributeNames": {"#pk": schema.STATE_PARTITION_KEY, **_NAMES},
                }
            },
            **_TOTAL,
        },
    )


def batch_versions(table: str, reply: Reply) -> dict[str, str]:
    """A BatchGetItem's answer: version by state key (``pk``). Raises Throttled if keys were left over."""
    found: dict[str, str] = {}
    for item in reply.body.get("Responses", {}).get(table, []):
        version = stored_version(item)
        if version is not None:
            found[item[schema.STATE_PARTITION_KEY]["S"]] = version
    if reply.body.get("UnprocessedKeys", {}).get(table, {}).get("Keys"):
        # DynamoDB hands back keys it could not read in time (throttling); the whole read is
        # retried with backoff by the caller, as any throttled request is.
        raise Throttled("BatchGetItem left keys unprocessed")
    return found


def inserted_keys(writes: Iterable[Write]) -> list[str]:
    """The key hashes whose tombstones a batch reads before its puts: those of its INSERTs (a MODIFY
    tries its fast path first, a REMOVE writes its tombstone)."""
    return [w.key_hash for w in writes if w.action is Action.PUT and w.record.event_name is EventName.INSERT]


def tombstone_reads(tables: ReplicaTables, key_hashes: Iterable[str]) -> list[Call]:
    """The BatchGetItem calls that read the tombstones of ``key_hashes`` (1 RRU per key)."""
    keys = [tables.tombstone_key(h) for h in dict.fromkeys(key_hashes)]
    return [batch_get(tables.state, chunk) for chunk in batches(keys)]


def tombstones_by_hash(found: Mapping[str, str]) -> dict[str, str]:
    """``batch_versions``' state keys turned back into key hashes (tombstone rows only)."""
    prefix = schema.TOMBSTONE_PREFIX
    return {pk[len(prefix) :]: v for pk, v in found.items() if pk.startswith(prefix)}


# -- the replicator's writes ----------------------------------------------------------------------


def replicate(tables: ReplicaTables, write: Write, *, tombstone: Tombstone, now: float) -> Steps[Outcome]:
    """The live replicator's write of one key's newest state: plain conditional writes only."""
    if write.action is Action.DELETE:
        return (yield from delete(tables, write, now=now))
    return (yield from put(tables, write, tombstone=tombstone))


def put(tables: ReplicaTables, write: Write, *, tombstone: Tombstone) -> Steps[Outcome]:
    """Store the item at its version unless the replica holds it, or a delete of it, at or above.

    MODIFY first tries one PutItem over an existing older item (an existing item is newer than
    every tombstone of its key, or a delete is in progress that will remove it after us). INSERT,
    and MODIFY of an absent item, need the key's tombstone (read with the batch, or here), then
    one PutItem on condition that the item is absent or older.
    """
    item = {**(write.item or {}), schema.VERSION_ATTRIBUTE: {"S": write.version}}
    if write.record.event_name is EventName.MODIFY:
        over_older = _conditional(PUT_OVER_OLDER, write.version)
        reply = yield Call("PutItem", {"TableName": tables.replica, "Item": item, **over_older})
        if not reply.condition_failed:
            return Outcome.APPLIED
        stored = _found(reply)
        if stored is not None:
            return _compare(stored, write.version)
    if isinstance(tombstone, _Unknown):
        tombstone = yield from read_tombstone(tables, write.key_hash)
    if deleted_later(tombstone, write.version):
        return Outcome.DELETED_LATER
    reply = yield Call(
        "PutItem", {"TableName": tables.replica, "Item": item, **_conditional(PUT_IF_NEWER, write.version)}
    )
    if not reply.condition_failed:
        return Outcome.APPLIED
    stored = _found(reply)
    return Outcome.STALE if stored is None else _compare(stored, write.version)


def delete(tables: ReplicaTables, write: Write, *, now: float) -> Steps[Outcome]:
    """Record the delete as a tombstone first, then delete the item if it is older.

    The order matters: once the tombstone is there, any put that reads it is refused, so the
    item can only disappear after nothing older can bring it back. The delete is sent even when
    the tombstone was already there (a retry after a crash between the two writes).

    A REMOVE is counted by its tombstone, its first write: *applied* when the tombstone is recorded
    now, *already applied* when it was already at this version, *stale* when a newer one is there.
    A newer item in the replica is left alone (its version is above the tombstone's).
    """
    reply = yield Call(
        "PutItem",
        {
            "TableName": tables.state,
            "Item": tables.tombstone_item(write.key_hash, write.version, now),
            **_conditional(TOMBSTONE_IF_NEWER, write.version),
        },
    )
    recorded = None if not reply.condition_failed else _found(reply)
    if_older = _conditional(DELETE_IF_OLDER, write.version)
    if_older["ExpressionAttributeNames"] = {**_NAMES, "#k": next(iter(write.keys))}
    reply = yield Call("DeleteItem", {"TableName": tables.replica, "Key": dict(write.keys), **if_older})
    del reply  # the delete finishes the record; whether it found an item does not change the outcome
    return Outcome.APPLIED if recorded is None else _compare(recorded, write.version)


def guarded_put(tables: ReplicaTables, write: Write) -> Steps[Outcome]:
    """A put that checks the tombstone in the same transaction (4 WRU): for hosts racing the live replicator.

    ``redrive`` replays old records while the live replicator may delete the same keys; a plain
    put after a tombstone read could land just after such a delete and resurrect the item, so
    redrive pays for the transaction. The live replicator never needs it (docs/design.md).
    """
    item = {**(write.item or {}), schema.VERSION_ATTRIBUTE: {"S": write.version}}
    check = _condition(PUT_IF_NEWER, write.version)
    reply = yield Call(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": tables.replica, "Item": item, **check}},
                {
                    "ConditionCheck": {
                        "TableName": tables.state,
                        "Key": tables.tombstone_key(write.key_hash),
                        **check,
                    }
                },
            ],
            **_TOTAL,
        },
    )
    if not reply.condition_failed:
        return Outcome.APPLIED
    reasons = reply.body.get("CancellationReasons") or []
    if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
        stored = stored_version(reasons[0].get("Item"))
        return Outcome.STALE if stored is None else _compare(stored, write.version)
    return Outcome.DELETED_LATER


# -- the high-water mark ----------------------------------------------------------------------------


def raise_watermark(tables: ReplicaTables, source_table: str, bucket: int, version: str) -> Steps[str]:
    """Raise one bucket of the mark to ``version``; returns the bucket's value afterwards."""
    if not 0 <= bucket < tables.watermark_buckets:
        raise ValueError(f"bucket {bucket} is not one of the {tables.watermark_buckets} buckets")
    reply = yield Call(
        "UpdateItem",
        {
            "TableName": tables.state,
            "Key": {schema.STATE_PARTITION_KEY: {"S": schema.watermark_pk(source_table, bucket)}},
            "UpdateExpression": "SET #v = :v",
            **_conditional(MARK_IF_HIGHER, version),
        },
    )
    if not reply.condition_failed:
        return version
    return _found(reply) or version


def read_watermark(tables: ReplicaTables, source_table: str) -> Steps[str | None]:
    """The source table's mark: the highest version over its buckets (and the pre-bucket item)."""
    keys = tables.watermark_keys(source_table)
    found: dict[str, str] = {}
    for chunk in batches(keys):
        reply = yield batch_get(tables.state, chunk)
        found.update(batch_versions(tables.state, reply))
    return max(found.values(), default=None)
