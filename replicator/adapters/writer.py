"""The replica adapter: turns a planned :class:`~replicator.core.plan.Write` into conditional writes.

Rules (see docs/design.md for why they converge):

* every replica item carries its version (``repl:version``); a write succeeds only if the stored
  version is older, so duplicates and late records can never move an item backwards;
* a delete leaves a tombstone with its version in the state table, in the same transaction, and a
  put must find any tombstone older than itself, so a replayed INSERT can never resurrect an item;
* a condition failure tells us which case it was (``ALL_OLD`` / cancellation reasons): equal version
  means *already applied*, a newer version means *stale*, a newer tombstone means *deleted later*.

One call is one attempt; retrying is the caller's business (``replicator.adapters.apply``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ddbstream import EventName
from replicator.adapters import classify
from replicator.core import schema
from replicator.core.errors import ConfigurationError
from replicator.core.outcomes import Outcome
from replicator.core.plan import Action, Write
from replicator.core.version import stored_version

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_NEWER = "attribute_not_exists(#v) OR #v < :v"
_OLDER_THERE = "#v < :v"
_NAMES = {"#v": schema.VERSION_ATTRIBUTE}
_CCF = "ConditionalCheckFailedException"


def _compare(stored: str, incoming: str) -> Outcome:
    return Outcome.ALREADY_APPLIED if stored == incoming else Outcome.STALE


@dataclass(frozen=True, slots=True)
class ReplicaTables:
    replica: str
    state: str
    tombstone_retention_seconds: int

    def __post_init__(self) -> None:
        # Enforced where tombstones are written, so no caller (handler, CLI, tests) can bypass it.
        low, high = schema.MIN_TOMBSTONE_RETENTION_HOURS, schema.MAX_TOMBSTONE_RETENTION_HOURS
        if not low * 3600 <= self.tombstone_retention_seconds <= high * 3600:
            raise ConfigurationError(
                f"tombstone retention must be between {low} and {high} hours (longer than the stream's "
                f"24 h, or a replayed INSERT could resurrect a deleted item); "
                f"got {self.tombstone_retention_seconds / 3600:g} hours"
            )


class ReplicaWriter:
    """Conditional writes into the replica table and its state table, through one boto3 client."""

    def __init__(
        self,
        client: DynamoDBClient,
        tables: ReplicaTables,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.tables = tables
        self._clock = clock

    @property
    def client(self) -> DynamoDBClient:
        return self._client

    # -- the replicator's write ------------------------------------------------------------------

    def apply(self, write: Write) -> Outcome:
        """Make the replica reflect ``write`` unless it already holds something newer. One attempt."""
        try:
            if write.action is Action.DELETE:
                return self._delete(write)
            item = {**(write.item or {}), schema.VERSION_ATTRIBUTE: {"S": write.version}}
            if write.record.event_name is EventName.MODIFY:
                outcome = self._put_over_existing(item, write.version)
                if outcome is not None:
                    return outcome
            return self._put_guarded(write, item)
        except (ClientError, BotoCoreError) as exc:
            raise classify.classify(exc) from exc

    def _put_over_existing(self, item: dict[str, Any], version: str) -> Outcome | None:
        """Fast path for MODIFY: one PutItem when an older version of the item is there.

        An existing versioned item implies every tombstone of its key is older than it (a put must
        beat the tombstone, a delete removes the item), so no state-table check is needed. Returns
        None when the item is absent or unversioned: then the guarded path decides.
        """
        try:
            self._client.put_item(
                TableName=self.tables.replica,
                Item=item,
                ConditionExpression=_OLDER_THERE,
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":v": {"S": version}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return Outcome.APPLIED
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _CCF:
                raise
            stored = stored_version(exc.response.get("Item"))  # type: ignore[arg-type]
            return None if stored is None else _compare(stored, version)

    def _put_guarded(self, write: Write, item: dict[str, Any]) -> Outcome:
        version = write.version
        return self._transact(
            [
                {
                    "Put": {
                        "TableName": self.tables.replica,
                        "Item": item,
                        "ConditionExpression": _NEWER,
                        "ExpressionAttributeNames": _NAMES,
                        "ExpressionAttributeValues": {":v": {"S": version}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": self.tables.state,
                        "Key": self._tombstone_key(write.key_hash),
                        "ConditionExpression": _NEWER,
                        "ExpressionAttributeNames": _NAMES,
                        "ExpressionAttributeValues": {":v": {"S": version}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ],
            version,
            tombstone_wins=Outcome.DELETED_LATER,
        )

    def _delete(self, write: Write) -> Outcome:
        version = write.version
        return self._transact(
            [
                {
                    "Delete": {
                        "TableName": self.tables.replica,
                        "Key": dict(write.keys),
                        "ConditionExpression": _NEWER,
                        "ExpressionAttributeNames": _NAMES,
                        "ExpressionAttributeValues": {":v": {"S": version}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Put": {
                        "TableName": self.tables.state,
                        "Item": self.tombstone_item(write.key_hash, version),
                        "ConditionExpression": _NEWER,
                        "ExpressionAttributeNames": _NAMES,
                        "ExpressionAttributeValues": {":v": {"S": version}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ],
            version,
            tombstone_wins=None,
        )

    def _transact(self, actions: Sequence[Any], version: str, *, tombstone_wins: Outcome | None) -> Outcome:
        """Run a two-action transaction: [replica item action, tombstone action].

        ``tombstone_wins`` is the outcome when only the tombstone condition failed; None means
        "compare versions" (a delete meeting its own tombstone is already applied).
        """
        try:
            self._client.transact_write_items(TransactItems=list(actions))
            return Outcome.APPLIED
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            return self._cancelled(reasons, version, tombstone_wins, exc)

    def _cancelled(
        self,
        reasons: Sequence[Mapping[str, Any]],
        version: str,
        tombstone_wins: Outcome | None,
        exc: ClientError,
    ) -> Outcome:
        codes = [str(reason.get("Code") or "None") for reason in reasons]
        if len(codes) != 2:
            raise classify.from_code("TransactionCanceledException", status=400) from exc
        item_code, tomb_code = codes
        if item_code == "ConditionalCheckFailed":
            stored = stored_version(reasons[0].get("Item"))
            return Outcome.STALE if stored is None else _compare(stored, version)
        if tomb_code == "ConditionalCheckFailed":
            if tombstone_wins is not None:
                return tombstone_wins
            stored = stored_version(reasons[1].get("Item"))
            return Outcome.STALE if stored is None else _compare(stored, version)
        failing = next((i for i, code in enumerate(codes) if code != "None"), 0)
        raise classify.from_code(codes[failing], str(reasons[failing].get("Message", ""))) from exc

    # -- state table -----------------------------------------------------------------------------

    @staticmethod
    def _tombstone_key(key_hash: str) -> dict[str, Any]:
        return {schema.STATE_PARTITION_KEY: {"S": schema.tombstone_pk(key_hash)}}

    def tombstone_item(self, key_hash: str, version: str) -> dict[str, Any]:
        """The state-table row recording that a key was deleted at ``version``; it expires later."""
        expires = int(self._clock()) + self.tables.tombstone_retention_seconds
        return {
            **self._tombstone_key(key_hash),
            schema.VERSION_ATTRIBUTE: {"S": version},
            schema.STATE_TTL_ATTRIBUTE: {"N": str(expires)},
        }

    def advance_watermark(self, source_table: str, version: str) -> None:
        """Raise the source table's high-water mark to ``version`` (never lowers it). One attempt."""
        try:
            self._client.update_item(
                TableName=self.tables.state,
                Key={schema.STATE_PARTITION_KEY: {"S": schema.watermark_pk(source_table)}},
                UpdateExpression="SET #v = :v",
                ConditionExpression=_NEWER,
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":v": {"S": version}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _CCF:
                return  # already at or above this version
            raise classify.classify(exc) from exc
        except BotoCoreError as exc:
            raise classify.classify(exc) from exc
