"""An emulation of DynamoDB's Time to Live process for endpoints that do not run it.

moto stores the TTL setting but never deletes expired items, and its stream records carry no
``userIdentity``. The sweeper deletes items whose TTL attribute (epoch seconds) has passed, each
with a condition on that very value, and the ledger marks the REMOVE records those deletes produce
with the identity DynamoDB's TTL process has (``Service`` / ``dynamodb.amazonaws.com``), so both
consumers see TTL deletes as they would in AWS. Against real DynamoDB neither is used.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ddbstream.attributes import key_id, primary_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


class TtlLedger:
    """The deletes the sweeper made, by key and TTL value; annotates the matching REMOVE records."""

    def __init__(self, ttl_attribute: str) -> None:
        self.ttl_attribute = ttl_attribute
        self._lock = threading.Lock()
        self._expected: set[tuple[str, str]] = set()

    def expect(self, keys: Mapping[str, Any], ttl_value: str) -> None:
        with self._lock:
            self._expected.add((key_id(keys), ttl_value))

    def forget(self, keys: Mapping[str, Any], ttl_value: str) -> None:
        with self._lock:
            self._expected.discard((key_id(keys), ttl_value))

    def annotate(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        """A GetRecords record, with the TTL identity if it is the REMOVE of a sweeper delete."""
        if raw.get("eventName") != "REMOVE" or raw.get("userIdentity"):
            return raw
        body = raw.get("dynamodb", {})
        ttl = body.get("OldImage", {}).get(self.ttl_attribute, {}).get("N")
        if ttl is None:
            return raw
        # Both consumers read the same record, so an entry is kept rather than consumed.
        with self._lock:
            matched = (key_id(body.get("Keys", {})), ttl) in self._expected
        return {**raw, "userIdentity": dict(TTL_IDENTITY)} if matched else raw


class TtlSweeper:
    """Deletes expired items of one table (a scan each sweep: meant for demo-sized tables)."""

    def __init__(
        self,
        client: DynamoDBClient,
        *,
        table: str,
        ttl_attribute: str,
        key_names: Sequence[str],
        ledger: TtlLedger,
    ) -> None:
        self._client = client
        self._table = table
        self._ttl = ttl_attribute
        self._keys = tuple(key_names)
        self._ledger = ledger
        self.deleted = 0

    def _expired(self, now: float) -> list[dict[str, Any]]:
        names = {f"#k{i}": name for i, name in enumerate(self._keys)} | {"#t": self._ttl}
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "#t <= :now",
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
        }
        while True:
            page = self._client.scan(**kwargs)
            found.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def sweep(self, now: float) -> int:
        """Delete every item expired at ``now``; returns how many were deleted."""
        deleted = 0
        for item in self._expired(now):
            ttl_value = item[self._ttl].get("N")
            if ttl_value is None:
                continue  # DynamoDB ignores TTL attributes that are not numbers
            keys = primary_key(item, self._keys)
            self._ledger.expect(keys, ttl_value)
            try:
                self._client.delete_item(
                    TableName=self._table,
                    Key=keys,
                    ConditionExpression="#t = :v",
                    ExpressionAttributeNames={"#t": self._ttl},
                    ExpressionAttributeValues={":v": {"N": ttl_value}},
                )
                deleted += 1
            except ClientError as exc:
                self._ledger.forget(keys, ttl_value)
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
        self.deleted += deleted
        return deleted
