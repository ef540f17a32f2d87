"""Gentle reads: parallel segment scans and point reads behind a shared read-rate limit.

Every read goes through one :class:`TokenBucket` per table: a request waits while the bucket is in
debt, then is charged what it really consumed (``ReturnConsumedCapacity=TOTAL``), or, when the
answer does not say, an estimate from the item sizes (one unit per 4 KB for a strongly consistent
read, half for an eventually consistent one). Throttling and server errors are retried with
jittered backoff for up to ``retry_seconds``; after that the command fails with a clear error.
Nothing is ever skipped.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ddbstream import Item, item_size_bytes, key_id, primary_key
from replicator.adapters import classify
from replicator.adapters.retry import Backoff, Deadline, call_with_retries
from replicator.cli.errors import ReadFailed
from replicator.core.errors import ReplicatorError, RetryableError, Throttled
from replicator.core.protocol import batches

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
READ_UNIT_BYTES = 4096


class TokenBucket:
    """A rate limit in units per second, fed by what requests really consumed. Thread-safe.

    ``rate=None`` means no limit. The bucket holds at most one second of units, so an idle period
    does not turn into a burst against production.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.consumed = 0.0
        self._clock = clock
        self._sleep = sleep
        self._tokens = rate or 0.0
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> float:
        assert self.rate is not None
        now = self._clock()
        self._tokens = min(self.rate, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        return self._tokens

    def wait(self) -> None:
        """Block until the bucket is out of debt."""
        if self.rate is None:
            return
        while True:
            with self._lock:
                tokens = self._refill()
                if tokens > -1e-6:  # out of debt, give or take float rounding of the refill
                    return
                pause = -tokens / self.rate
            self._sleep(pause)

    def charge(self, units: float) -> None:
        with self._lock:
            self.consumed += units
            if self.rate is not None:
                self._refill()
                self._tokens -= units


def estimate_units(items: Sequence[Item], *, consistent: bool, per_item: bool) -> float:
    """Read units for items of these sizes: Scan rounds the page's total size, GetItem each item."""
    sizes = [item_size_bytes(item) for item in items]
    if per_item:
        blocks = sum(max(1, math.ceil(size / READ_UNIT_BYTES)) for size in sizes) or 1
    else:
        blocks = max(1, math.ceil(sum(sizes) / READ_UNIT_BYTES))
    return blocks if consistent else blocks / 2


def _reported(response: Mapping[str, Any]) -> float | None:
    capacity = response.get("ConsumedCapacity")
    if isinstance(capacity, Mapping):
        capacity = [capacity]
    if not capacity:
        return None
    return float(sum(float(c.get("CapacityUnits", 0.0)) for c in capacity))


def persist(
    attempt: Callable[[], T],
    *,
    seconds: float,
    backoff: Backoff,
    sleep: Callable[[float], None],
    on_retryable: Callable[[RetryableError], None] = lambda _: None,
) -> T:
    """Call ``attempt`` until it succeeds, retrying retryable errors with backoff for up to ``seconds``."""
    return call_with_retries(
        attempt,
        deadline=Deadline(time.monotonic() + seconds),
        backoff=backoff,
        min_attempt_seconds=0.0,
        sleep=sleep,
        on_retryable=on_retryable,
    )


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    last_evaluated_key: dict[str, Any] | None


@dataclass
class Reader:
    """Rate-limited, retrying reads of one table. ``where`` names it in errors ("source"/"replica")."""

    client: DynamoDBClient
    table: str
    where: str
    bucket: TokenBucket
    retry_seconds: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    backoff: Backoff = field(default_factory=lambda: Backoff(base=0.1, cap=10.0))
    throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _count(self, error: RetryableError) -> None:
        if isinstance(error, Throttled):
            with self._lock:
                self.throttled += 1

    def call(self, what: str, request: Callable[[], T]) -> T:
        """One read with the rate limit and retries; raises ReadFailed when it cannot succeed."""

        def attempt() -> T:
            self.bucket.wait()
            try:
                return request()
            except (ClientError, BotoCoreError) as exc:
                raise classify.classify(exc) from exc

        try:
            return persist(
                attempt,
                seconds=self.retry_seconds,
                backoff=self.backoff,
                sleep=self.sleep,
                on_retryable=self._count,
            )
        except RetryableError as exc:
            raise ReadFailed(
                f"{what} on the {self.where} table {self.table!r} kept failing for "
                f"{self.retry_seconds:.0f} s ({type(exc).__name__}); lower --max-read-units or retry later"
            ) from None
        except ReplicatorError as exc:
            raise ReadFailed(f"{what} on the {self.where} table {self.table!r} failed: {exc}") from None

    def scan(
        self,
        segment: int,
        total_segments: int,
        *,
        consistent: bool,
        page_size: int | None,
        start_key: Mapping[str, Any] | None = None,
    ) -> Iterator[Page]:
        """The pages of one scan segment, from ``start_key`` (exclusive) when resuming."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Segment": segment,
            "TotalSegments": total_segments,
            "ConsistentRead": consistent,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if page_size:
            kwargs["Limit"] = page_size
        if start_key:
            kwargs["ExclusiveStartKey"] = dict(start_key)
        while True:
            response: Any = self.call("Scan", lambda: self.client.scan(**kwargs))
            items = response.get("Items", [])
            units = _reported(response)
            self.bucket.charge(
                units if units is not None else estimate_units(items, consistent=consistent, per_item=False)
            )
            last = response.get("LastEvaluatedKey")
            yield Page(items, last)
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def get(self, keys: Item, *, consistent: bool = True) -> dict[str, Any] | None:
        response: Any = self.call(
            "GetItem",
            lambda: self.client.get_item(
                TableName=self.table,
                Key=dict(keys),
                ConsistentRead=consistent,
                ReturnConsumedCapacity="TOTAL",
            ),
        )
        item = response.get("Item")
        units = _reported(response)
        self.bucket.charge(
            units if units is not None else estimate_units([item or {}], consistent=consistent, per_item=True)
        )
        return item  # type: ignore[no-any-return]

    def batch_get(self, keys: Sequence[Item], *, consistent: bool = True) -> dict[str, dict[str, Any]]:
        """Items by ``key_id`` for up to any number of keys, 100 per request, unprocessed keys retried."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in batches(keys):
            wanted: list[dict[str, Any]] = [dict(k) for k in chunk]
            names = tuple(wanted[0]) if wanted else ()
            attempts = 0
            give_up = time.monotonic() + self.retry_seconds
            while wanted:
                request = {self.table: {"Keys": wanted, "ConsistentRead": consistent}}
                response: Any = self.call(
                    "BatchGetItem",
                    lambda r=request: self.client.batch_get_item(  # type: ignore[misc]
                        RequestItems=r, ReturnConsumedCapacity="TOTAL"
                    ),
                )
                items = response.get("Responses", {}).get(self.table, [])
                units = _reported(response)
                self.bucket.charge(
                    units
                    if units is not None
                    else estimate_units(items, consistent=consistent, per_item=True)
                )
                for item in items:
                    found[key_id(primary_key(item, names))] = item
                wanted = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                if wanted:
                    # Unprocessed keys are DynamoDB's way of throttling a batch: back off, never drop.
                    if time.monotonic() > give_up:
                        raise ReadFailed(
                            f"BatchGetItem on the {self.where} table {self.table!r} left keys unprocessed "
                            f"for {self.retry_seconds:.0f} s; lower --max-read-units or retry later"
                        )
                    attempts += 1
                    self._count(Throttled("unprocessed keys"))
                    self.sleep(self.backoff.delay(attempts))
        return found
