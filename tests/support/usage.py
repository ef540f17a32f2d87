"""A usage workload written to moto's source table, with the metrics it must produce.

:class:`UsageModel` applies puts and deletes to the source table and, independently of the
metrics consumer, keeps its own account of what they mean: which event each write makes on the
stream, which segment and user it belongs to, which tracked attributes it adds, changes or
removes. Tests read the stream (records exactly as Lambda delivers them) and compare what the
consumer publishes with :class:`Expected`.

Hand-written only what moto cannot produce (with ``tests.support.events``): TTL deletes (a real
REMOVE record from moto, marked with DynamoDB's service identity) and malformed records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddbstream import item_size_bytes
from metrics.settings import Settings
from tests.support.events import mark_ttl_delete
from tests.support.streams import StreamTap

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TRACKED = ("plan", "country")
SEGMENTS = ("ios", "android", "web")
SETTINGS = Settings(tracked_attributes=TRACKED, segment_attribute="platform", segment_values=SEGMENTS)
"""The consumer's settings that match :class:`UsageModel`'s defaults."""
Row = dict[str, str | int]


def client_item(row: Row) -> dict[str, dict[str, str]]:
    return {name: {"N": str(v)} if isinstance(v, int) else {"S": v} for name, v in row.items()}


@dataclass
class Expected:
    """What the consumer must count for the writes so far (TTL deletes kept apart)."""

    by_event: Counter[str] = field(default_factory=Counter)
    by_segment: Counter[str] = field(default_factory=Counter)
    attribute_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    item_sizes: list[int] = field(default_factory=list)
    users_by_segment: dict[str, set[str]] = field(default_factory=dict)
    ttl_deletes: int = 0

    @property
    def item_changes(self) -> int:
        return sum(self.by_event.values())

    @property
    def active_users(self) -> int:
        return len(set().union(*self.users_by_segment.values()))


class UsageModel:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        tap: StreamTap,
        *,
        tracked: tuple[str, ...] = TRACKED,
        segment_attribute: str = "platform",
        segments: tuple[str, ...] = SEGMENTS,
    ) -> None:
        self.client, self.table, self.tap = client, table, tap
        self.tracked, self.segment_attribute, self.segments = tracked, segment_attribute, segments
        self.items: dict[tuple[str, int], Row] = {}
        self.expected = Expected()
        self._ttl_keys: set[tuple[str, int]] = set()

    def _segment(self, row: Row) -> str:
        value = row.get(self.segment_attribute)
        return value if isinstance(value, str) and value in self.segments else "other"

    def _user(self, row: Row) -> None:
        self.expected.users_by_segment.setdefault(self._segment(row), set()).add(str(row["user_id"]))

    def put(self, row: Row) -> None:
        old = self.items.get((str(row["user_id"]), int(row["timestamp"])))
        self.client.put_item(TableName=self.table, Item=client_item(row))
        self._account(old, row)

    def insert_many(self, rows: list[Row]) -> None:
        """New items in batches of 25 (BatchWriteItem): quicker for large workloads, INSERTs only."""
        for start in range(0, len(rows), 25):
            requests = [{"PutRequest": {"Item": client_item(row)}} for row in rows[start : start + 25]]
            self.client.batch_write_item(RequestItems={self.table: requests})  # type: ignore[dict-item]
        for row in rows:
            assert (str(row["user_id"]), int(row["timestamp"])) not in self.items, (
                "insert_many is for new items"
            )
            self._account(None, row)

    def _account(self, old: Row | None, row: Row) -> None:
        self.items[(str(row["user_id"]), int(row["timestamp"]))] = dict(row)
        event = "INSERT" if old is None else "MODIFY"  # moto emits MODIFY even for an identical put
        self.expected.by_event[event] += 1
        self.expected.by_segment[self._segment(row)] += 1
        self.expected.item_sizes.append(item_size_bytes(client_item(row)))
        self._user(row)
        for name in self.tracked:
            before, after = (old or {}).get(name), row.get(name)
            if before is None and after is not None:
                self.expected.attribute_changes[(name, "added")] += 1
            elif before is not None and after is None:
                self.expected.attribute_changes[(name, "removed")] += 1
            elif before != after:
                self.expected.attribute_changes[(name, "changed")] += 1

    def delete(self, user_id: str, timestamp: int, *, ttl: bool = False) -> None:
        key = (user_id, timestamp)
        old = self.items.pop(key)
        self.client.delete_item(
            TableName=self.table, Key={"user_id": {"S": user_id}, "timestamp": {"N": str(timestamp)}}
        )
        if ttl:
            self._ttl_keys.add(key)
            self.expected.ttl_deletes += 1
            return
        self.expected.by_event["REMOVE"] += 1
        self.expected.by_segment[self._segment(old)] += 1
        self._user(old)
        for name in self.tracked:
            if name in old:
                self.expected.attribute_changes[(name, "removed")] += 1

    def read_event(self) -> dict[str, Any]:
        """The new stream records as one Lambda event, TTL deletes marked as DynamoDB makes them."""
        event = self.tap.read_event()
        for record in event["Records"]:
            keys = record["dynamodb"]["Keys"]
            key = (keys["user_id"]["S"], int(keys["timestamp"]["N"]))
            if record["eventName"] == "REMOVE" and key in self._ttl_keys:
                mark_ttl_delete(record)
        return event


def windowed(
    event: dict[str, Any],
    start: str,
    state: dict[str, Any] | None = None,
    *,
    final: bool = False,
    early: bool = False,
    shard_id: str = "shardId-00000001",
) -> dict[str, Any]:
    """The event as Lambda shapes it for a mapping with a one-minute tumbling window."""
    end = start.replace(":00Z", ":59Z")
    return {
        **event,
        "window": {"start": start, "end": end},
        "state": state or {},
        "shardId": shard_id,
        "eventSourceARN": event["Records"][0]["eventSourceARN"] if event.get("Records") else None,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": early,
    }
