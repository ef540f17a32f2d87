"""Writing a source item's *current* state into the replica safely: the rule behind repair and backfill.

A stream record carries its own version; a state read from the source table does not. The version
a repair may write is therefore derived, and the write is a compare-and-set on what the replica
held when it was read:

1. read the source table's high-water mark ``L`` (every record the replicator has seen has a
   sequence number <= L, and was published, so its change is visible to the next source read);
2. read the replica's item version ``u`` and tombstone version ``d`` (consistent reads);
3. read the source item ``S`` (consistent read);
4. write ``S`` (or delete, with a tombstone, if ``S`` is gone) at version ``max(u, d, L)``, on
   condition that the replica's item and tombstone still carry exactly ``u`` and ``d``.

Any record with a sequence number <= max(u, d, L) was published before step 3 read ``S``, so ``S``
is at least as new: such a record arriving later is rightly rejected as stale. Any newer record is
above the written version and is applied over the repair, in stream order. A replicated change
landing between steps 2 and 4 fails the condition, and the repair starts over for that key.
Stream sequence numbers must grow with time across the stream (they do; see docs/design.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ddbstream import Item, key_hash
from replicator.adapters import classify
from replicator.adapters.writer import ReplicaWriter
from replicator.core import protocol, schema
from replicator.core.repair import RepairOutcome, ReplicaState
from replicator.core.version import stored_version

_NAMES = {"#v": schema.VERSION_ATTRIBUTE}


class Reconciler:
    """Reads and compare-and-set writes on the replica side, through the replicator's writer."""

    def __init__(self, writer: ReplicaWriter) -> None:
        self._client = writer.client
        self.tables = writer.tables
        self._writer = writer

    def read_watermark(self, source_table: str) -> str | None:
        """The mark: the highest version over its buckets, in consistent BatchGetItem reads."""
        return self._writer.run(protocol.read_watermark(self.tables, source_table))

    def read_state(self, keys: Item) -> ReplicaState:
        item = self._get(self.tables.replica, dict(keys))
        tombstone = self._get(self.tables.state, self.tables.tombstone_key(key_hash(keys)))
        return ReplicaState(item=item, tombstone_version=stored_version(tombstone))

    def _get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(TableName=table, Key=dict(key), ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise classify.classify(exc) from exc
        return response.get("Item")

    def write_current_state(
        self, keys: Item, observed: ReplicaState, source_item: Item | None, new_version: str
    ) -> RepairOutcome:
        """Store ``source_item`` (or delete) at ``new_version``, if the replica still holds ``observed``."""
        if source_item is None and observed.item is None:
            return RepairOutcome.UNCHANGED
        item_condition, item_values = _expect_item(keys, observed)
        tomb_condition, tomb_values = _expect_tombstone(observed)
        names = {**_NAMES, "#k": next(iter(keys)), "#pk": schema.STATE_PARTITION_KEY}
        if source_item is not None:
            replica_action: dict[str, Any] = {
                "Put": {
                    "TableName": self.tables.replica,
                    "Item": {**source_item, schema.VERSION_ATTRIBUTE: {"S": new_version}},
                    "ConditionExpression": item_condition,
                }
            }
            tombstone_action: dict[str, Any] = {
                "ConditionCheck": {
                    "TableName": self.tables.state,
                    "Key": self.tables.tombstone_key(key_hash(keys)),
                    "ConditionExpression": tomb_condition,
                }
            }
        else:
            replica_action = {
                "Delete": {
                    "TableName": self.tables.replica,
                    "Key": dict(keys),
                    "ConditionExpression": item_condition,
                }
            }
            tombstone_action = {
                "Put": {
                    "TableName": self.tables.state,
                    "Item": self.tables.tombstone_item(key_hash(keys), new_version, self._writer.now()),
                    "ConditionExpression": tomb_condition,
                }
            }
        for action, values in ((replica_action, item_values), (tombstone_action, tomb_values)):
            body = next(iter(action.values()))
            expression = body["ConditionExpression"]
            body["ExpressionAttributeNames"] = {n: v for n, v in names.items() if n in expression}
            if values:
                body["ExpressionAttributeValues"] = values
        try:
            self._client.transact_write_items(TransactItems=[replica_action, tombstone_action])  # type: ignore[list-item]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                    return RepairOutcome.CONFLICT
            raise classify.classify(exc) from exc
        except BotoCoreError as exc:
            raise classify.classify(exc) from exc
        return RepairOutcome.WRITTEN if source_item is not None else RepairOutcome.DELETED


def _expect_item(keys: Item, observed: ReplicaState) -> tuple[str, dict[str, Any]]:
    if observed.item is None:
        return "attribute_not_exists(#k)", {}
    if observed.item_version is None:
        return "attribute_exists(#k) AND attribute_not_exists(#v)", {}
    return "#v = :u", {":u": {"S": observed.item_version}}


def _expect_tombstone(observed: ReplicaState) -> tuple[str, dict[str, Any]]:
    if observed.tombstone_version is None:
        return "attribute_not_exists(#pk)", {}
    return "#v = :d", {":d": {"S": observed.tombstone_version}}
