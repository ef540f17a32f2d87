"""A zero-latency DynamoDB that throttles any item written more than 1,000 times in one second.

DynamoDB serves at most about 1,000 write units per second to one partition key, whatever the
table's capacity, and answers the excess with ``ProvisionedThroughputExceededException`` carrying
the throttling reason ``TableWriteKeyRangeThroughputExceeded`` (on-demand tables too):
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/throttling-key-range-limit-exceeded-mitigation.html

:class:`ItemWindows` is that rule, in fixed one-second windows per item. :class:`ThrottlingBackend`
answers a replica writer's calls itself, at the client's method level (``put_item(**params)`` and
so on) and at once: every write succeeds unless its item is over the limit in the current window
of the simulated clock. It answers at the method level rather than through botocore, because
botocore's ~1 ms of CPU per request would make thousands of simulated invocations take many
minutes; what the sharded benchmark measures is which items the replicator writes, not the client.
Conditions are not evaluated (every conditional write succeeds): only the write rate matters here.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from botocore.exceptions import ClientError

from ddbstream import key_id, primary_key

ITEM_WRITES_PER_SECOND: Final = 1000


class ItemWindows:
    """Admits at most ``limit`` writes per item in each one-second window ``[n, n + 1)``."""

    def __init__(self, limit: int = ITEM_WRITES_PER_SECOND) -> None:
        self.limit = limit
        self._counts: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def admit(self, items: Sequence[str], now: float) -> bool:
        """Count one write of each of ``items`` at ``now``, unless one of them is over the limit."""
        window = math.floor(now)
        with self._lock:
            if any(self._counts[(item, window)] >= self.limit for item in items):
                return False
            for item in items:
                self._counts[(item, window)] += 1
            return True


def throttled(operation: str, table: str) -> ClientError:
    """DynamoDB's answer to a write over an item's limit."""
    response: Any = {
        "Error": {
            "Code": "ProvisionedThroughputExceededException",
            "Message": "Throughput exceeds the current capacity for one or more items",
        },
        "ThrottlingReasons": [
            {
                "reason": "TableWriteKeyRangeThroughputExceeded",
                "resource": f"arn:aws:dynamodb:eu-west-1:123456789012:table/{table}",
            }
        ],
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    return ClientError(response, operation)


class ThrottlingBackend:
    """Answers a replica writer's DynamoDB calls instantly; throttles items past their write limit.

    ``key_names``: each table's key attributes; ``clock``: the simulated time of the caller.
    ``writes`` and ``throttles`` count the writes done and refused, by item (``table|key``) and
    one-second window.
    """

    def __init__(
        self,
        key_names: Mapping[str, Sequence[str]],
        clock: Callable[[], float],
        windows: ItemWindows | None = None,
    ) -> None:
        self._key_names = key_names
        self._clock = clock
        self._windows = windows or ItemWindows()
        self._lock = threading.Lock()
        self.writes: Counter[tuple[str, int]] = Counter()
        self.throttles: Counter[tuple[str, int]] = Counter()

    def item_of(self, table: str, key: Mapping[str, Any]) -> str:
        return f"{table}|{key_id(primary_key(key, self._key_names[table]))}"

    def _write(self, operation: str, targets: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
        items = [self.item_of(table, key) for table, key in targets]
        now = self._clock()
        admitted = self._windows.admit(items, now)
        with self._lock:
            (self.writes if admitted else self.throttles).update((item, math.floor(now)) for item in items)
        if not admitted:
            raise throttled(operation, targets[0][0])
        return {}

    # -- the client methods the replica writer calls -----------------------------------------------

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._write("PutItem", [(params["TableName"], params["Item"])])

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._write("UpdateItem", [(params["TableName"], params["Key"])])

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self._write("DeleteItem", [(params["TableName"], params["Key"])])

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        targets = [
            (action["TableName"], action.get("Item") or action["Key"])
            for entry in params["TransactItems"]
            for action in entry.values()
        ]
        return self._write("TransactWriteItems", targets)

    def get_item(self, **params: Any) -> dict[str, Any]:
        return {}  # reads have their own, higher limit (3,000 per item per second): never reached here

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        return {"Responses": {table: [] for table in params["RequestItems"]}}
