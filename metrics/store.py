"""The usage table adapter: the only module of ``metrics`` that talks to DynamoDB.

It turns the item layout of :mod:`metrics.usage_items` into requests and DynamoDB's answers back
into values; the decisions (what to merge, what to publish) are the caller's. Reads that decide
what the merge does are strongly consistent: a summary written before its pending marker must be
seen by a merge that saw the marker. Writes of merged items are conditional on the version they
read (optimistic locking), so two merges running at once cannot lose each other's union.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from metrics.errors import UsageStoreError
from metrics.periods import Slot
from metrics.rollup import Segments, same, union_segments
from metrics.schema import PARTITION_KEY, SORT_KEY
from metrics.settings import UsageTable
from metrics.usage_items import (
    WINDOW_PREFIX,
    Item,
    WindowSummary,
    decode_changes,
    decode_users,
    merged_item,
    merged_key,
    pending_item,
    pending_key,
    pending_partition,
    progress_item,
    progress_key,
    progress_of,
    slot_partition,
    summary_item,
    version_of,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CONFLICT = "ConditionalCheckFailedException"
_FOLD_ATTEMPTS = 5
_BATCH_KEYS = 100  # BatchGetItem's limit
_UNPROCESSED_ATTEMPTS = 5
# Standard retry mode with a few more attempts than the default: a window summary that cannot be
# stored fails the final invoke, which holds the shard until it succeeds.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 6}, connect_timeout=5, read_timeout=10)


def usage_client(table: UsageTable) -> DynamoDBClient:
    """A DynamoDB client for the usage table (for entry points: never built at import time)."""
    return boto3.client(
        "dynamodb", region_name=table.region, endpoint_url=table.endpoint_url, config=_CLIENT_CONFIG
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _unchanged(current: Item, stored: Segments, merged: Segments, changes: Mapping[str, int] | None) -> bool:
    """Whether writing ``merged`` (and ``changes``) over ``current`` would change nothing."""
    return same(merged, stored) and (changes is None or decode_changes(current) == changes)


class UsageStore:
    """Window summaries and merged sketches in one DynamoDB table (``USAGE_TABLE_NAME``)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    # --- the consumer's side ------------------------------------------------------------------

    def put_summary(self, summary: WindowSummary) -> None:
        """Store a closing window's summary (overwriting an earlier delivery of the same window),
        then mark its minute pending, so the merge unions it in however late it comes."""
        self._put(summary_item(summary))
        self._put(pending_item(summary.table, summary.minute, uuid.uuid4().hex))

    # --- the merge's side ---------------------------------------------------------------------

    def pending(self, table: str, through: Slot, limit: int) -> list[tuple[Slot, str]]:
        """Minutes up to ``through`` with summaries not yet merged (oldest first), with the token
        each marker had when read."""
        found: list[tuple[Slot, str]] = []
        for item in self._query(
            "#pk = :pk AND #sk <= :through",
            {":pk": {"S": pending_partition(table)}, ":through": {"S": through.text()}},
        ):
            found.append((Slot.parse(through.period, str(item[SORT_KEY]["S"])), str(item["token"]["S"])))
            if len(found) >= limit:
                break
        return found

    def minute_summaries(self, table: str, minute: Slot) -> list[Item]:
        """Every window summary filed under ``minute`` (the merged item excluded)."""
        return list(
            self._query(
                "#pk = :pk AND begins_with(#sk, :window)",
                {":pk": {"S": slot_partition(table, minute)}, ":window": {"S": WINDOW_PREFIX}},
            )
        )

    def fold(
        self, table: str, slot: Slot, segments: Segments, *, changes: Mapping[str, int] | None = None
    ) -> Segments:
        """Union ``segments`` into the merged item of ``slot``; returns what the item now holds.

        Read, union, write if anything changed, on condition that nobody wrote in between; on a
        conflict, again from the read (a union can always be redone).
        """
        key = merged_key(table, slot)
        for _ in range(_FOLD_ATTEMPTS):
            current = self._get(key)
            stored = decode_users(current) if current else {}
            merged = union_segments([stored, segments])
            if current is not None and _unchanged(current, stored, merged, changes):
                return stored
            version = version_of(current)
            request: dict[str, Any] = {
                "Item": merged_item(table, slot, merged, version=version + 1, changes=changes),
            }
            if current is None:
                request["ConditionExpression"] = "attribute_not_exists(#pk)"
                request["ExpressionAttributeNames"] = {"#pk": PARTITION_KEY}
            else:
                request["ConditionExpression"] = "version = :version"
                request["ExpressionAttributeValues"] = {":version": {"N": str(version)}}
            try:
                self._client.put_item(TableName=self.table_name, **request)
            except ClientError as exc:
                if _code(exc) == _CONFLICT:
                    continue
                raise self._error("write", key, exc) from exc
            except BotoCoreError as exc:
                raise self._error("write", key, exc) from exc
            return merged
        raise UsageStoreError(
            f"{self.table_name}: {key[PARTITION_KEY]['S']} changed under {_FOLD_ATTEMPTS} attempts "
            "to merge into it; is more than one merge running?"
        )

    def read_merged(self, table: str, slots: Sequence[Slot]) -> dict[Slot, Segments]:
        """The merged sketches of ``slots`` (a slot nobody was active in is absent)."""
        by_partition = {slot_partition(table, slot): slot for slot in slots}
        found: dict[Slot, Segments] = {}
        keys = [merged_key(table, slot) for slot in slots]
        for start in range(0, len(keys), _BATCH_KEYS):
            for item in self._batch_get(keys[start : start + _BATCH_KEYS]):
                found[by_partition[str(item[PARTITION_KEY]["S"])]] = decode_users(item)
        return found

    def clear_pending(self, table: str, minute: Slot, token: str) -> bool:
        """Drop the marker of a merged minute, unless a summary came since it was read."""
        key = pending_key(table, minute)
        try:
            self._client.delete_item(
                TableName=self.table_name,
                Key=key,
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": token}},
            )
        except ClientError as exc:
            if _code(exc) == _CONFLICT:
                return False  # a newer summary: the minute stays pending for the next run
            raise self._error("delete", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("delete", key, exc) from exc
        return True

    def progress(self, table: str) -> Slot | None:
        """The last minute the merge published figures for."""
        return progress_of(self._get(progress_key(table)))

    def save_progress(self, table: str, through: Slot) -> None:
        self._put(progress_item(table, through))

    # --- requests -----------------------------------------------------------------------------

    def _error(self, action: str, key: Mapping[str, Any], exc: Exception) -> UsageStoreError:
        code = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        return UsageStoreError(
            f"usage table {self.table_name}: {action} of {key[PARTITION_KEY]['S']} failed ({code})"
        )

    def _put(self, item: Item) -> None:
        try:
            self._client.put_item(TableName=self.table_name, Item=item)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("write", item, exc) from exc

    def _get(self, key: Item) -> Item | None:
        try:
            response = self._client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("read", key, exc) from exc
        item: Item | None = response.get("Item")
        return item

    def _query(self, condition: str, values: dict[str, Any]) -> Iterator[Item]:
        request: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        while True:
            try:
                page = self._client.query(TableName=self.table_name, **request)
            except (ClientError, BotoCoreError) as exc:
                raise self._error("query", {PARTITION_KEY: values[":pk"]}, exc) from exc
            yield from page.get("Items", [])
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def _batch_get(self, keys: list[Item]) -> list[Item]:
        items: list[Item] = []
        request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(_UNPROCESSED_ATTEMPTS):
            try:
                response = self._client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as exc:
                raise self._error("batch read", keys[0], exc) from exc
            items += response.get("Responses", {}).get(self.table_name, [])
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
            if not unprocessed:
                return items
            request = {self.table_name: unprocessed}
            time.sleep(0.05 * 2**attempt)  # DynamoDB's advice for unprocessed keys: back off, retry
        raise UsageStoreError(f"usage table {self.table_name}: keys left unprocessed after retries")
