"""The write protocol before this change, re-implemented for the cost benchmark only.

Priced by the same meter on the same history, so the comparison is measured, not estimated. It
is what ``replicator/adapters/writer.py`` did up to commit eb901a7:

* MODIFY: one ``PutItem`` on condition that an older version is there; when the item is absent,
  the INSERT path;
* INSERT: ``TransactWriteItems`` with a Put of the item and a ConditionCheck of its tombstone
  (both "absent or older than v");
* REMOVE: ``TransactWriteItems`` with a Delete of the item and a Put of the tombstone;
* every invocation: one conditional ``UpdateItem`` of a single high-water mark item.

It reuses the live protocol's steps where they are the same (the transactional put of
``guarded_put`` is the old INSERT exactly) and runs under the real ``apply_plan``: with
``guarded_puts`` set, the batch reads no tombstones up front, as before.
"""

from __future__ import annotations

from typing import Any

from ddbstream import EventName
from replicator.adapters.writer import Attempt, Meter, ReplicaWriter, once
from replicator.core import protocol, schema
from replicator.core.outcomes import Outcome
from replicator.core.plan import Action, Write
from replicator.core.protocol import UNKNOWN, Call, ReplicaTables, Steps, Tombstone
from replicator.core.version import stored_version

_NAMES = {"#v": schema.VERSION_ATTRIBUTE}


def _if(condition: str, version: str) -> dict[str, Any]:
    return {
        "ConditionExpression": condition,
        "ExpressionAttributeNames": _NAMES,
        "ExpressionAttributeValues": {":v": {"S": version}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _compare(stored: str | None, version: str) -> Outcome:
    if stored is None:
        return Outcome.STALE
    return Outcome.ALREADY_APPLIED if stored == version else Outcome.STALE


def put(tables: ReplicaTables, write: Write) -> Steps[Outcome]:
    """MODIFY over an older item in one PutItem; otherwise the transactional put (4 WRU)."""
    if write.record.event_name is EventName.MODIFY:
        item = {**(write.item or {}), schema.VERSION_ATTRIBUTE: {"S": write.version}}
        reply = yield Call(
            "PutItem", {"TableName": tables.replica, "Item": item, **_if(protocol.OLDER_THERE, write.version)}
        )
        if not reply.condition_failed:
            return Outcome.APPLIED
        stored = stored_version(reply.body.get("Item"))
        if stored is not None:
            return _compare(stored, write.version)
    return (yield from protocol.guarded_put(tables, write))


def delete(tables: ReplicaTables, write: Write, *, now: float) -> Steps[Outcome]:
    """Delete the item and write its tombstone in one transaction (4 WRU)."""
    check = _if(protocol.NEWER, write.version)
    reply = yield Call(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Delete": {"TableName": tables.replica, "Key": dict(write.keys), **check}},
                {
                    "Put": {
                        "TableName": tables.state,
                        "Item": tables.tombstone_item(write.key_hash, write.version, now),
                        **check,
                    }
                },
            ]
        },
    )
    if not reply.condition_failed:
        return Outcome.APPLIED
    item_reason, tombstone_reason = [*(reply.body.get("CancellationReasons") or []), {}, {}][:2]
    if item_reason.get("Code") == "ConditionalCheckFailed":
        return _compare(stored_version(item_reason.get("Item")), write.version)
    return _compare(stored_version(tombstone_reason.get("Item")), write.version)


def raise_single_mark(tables: ReplicaTables, source_table: str, version: str) -> Steps[None]:
    """The one mark item every invocation raised (no buckets, no skipping)."""
    yield Call(
        "UpdateItem",
        {
            "TableName": tables.state,
            "Key": {schema.STATE_PARTITION_KEY: {"S": schema.watermark_pk(source_table)}},
            "UpdateExpression": "SET #v = :v",
            **_if(protocol.NEWER, version),
        },
    )


class BeforeWriter(ReplicaWriter):
    """A writer speaking the protocol before this change (see the module docstring)."""

    def __init__(self, client: Any, tables: ReplicaTables) -> None:
        super().__init__(client, tables, guarded_puts=True, bucket=0)

    def apply(
        self,
        write: Write,
        *,
        tombstone: Tombstone = UNKNOWN,
        meter: Meter | None = None,
        attempt: Attempt = once,
    ) -> Outcome:
        if write.action is Action.DELETE:
            return self.run(delete(self.tables, write, now=self.now()), meter, attempt)
        return self.run(put(self.tables, write), meter, attempt)

    def advance_watermark(self, source_table: str, version: str, meter: Meter | None = None) -> None:
        self.run(raise_single_mark(self.tables, source_table, version), meter)
