"""The replica adapter: runs the protocol's steps (``replicator.core.protocol``) against DynamoDB.

The protocol decides which request comes next and what an answer means; this module sends the
requests through one boto3 client, turns a failed condition into a :class:`Reply` the protocol
reads (``ALL_OLD`` / cancellation reasons carry the stored version), adds up the capacity DynamoDB
reports, and maps every other error to the replicator's own exceptions. One call of a public
method makes each request once unless given an ``attempt`` that retries
(``replicator.adapters.apply`` passes its deadline-aware retries).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from replicator.adapters import classify
from replicator.core import protocol
from replicator.core.outcomes import Capacity, Outcome
from replicator.core.plan import Action, Write
from replicator.core.protocol import UNKNOWN, Call, ReplicaTables, Reply, Steps, Tombstone
from replicator.core.version import decode

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")

_CONDITION_FAILED = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
_READS = frozenset({"GetItem", "BatchGetItem"})
_METHODS = {
    "GetItem": "get_item",
    "BatchGetItem": "batch_get_item",
    "PutItem": "put_item",
    "DeleteItem": "delete_item",
    "UpdateItem": "update_item",
    "TransactWriteItems": "transact_write_items",
}


Attempt = Callable[[Callable[[], Reply]], Reply]
"""How one request is run: once (the default), or with the caller's retries."""


def once(send: Callable[[], Reply]) -> Reply:
    return send()


class Meter:
    """Adds up the capacity units of one invocation's requests (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = Capacity()

    def add(self, operation: str, response: Mapping[str, Any]) -> None:
        consumed = response.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        units = float(sum(entry.get("CapacityUnits", 0.0) for entry in entries))
        share = Capacity(read_units=units) if operation in _READS else Capacity(write_units=units)
        with self._lock:
            self._total = self._total + share

    @property
    def total(self) -> Capacity:
        with self._lock:
            return self._total


class ReplicaWriter:
    """The protocol's requests against the replica table and its state table, through one client.

    ``guarded_puts``: every put checks the tombstone inside a transaction (4 WRU instead of 1.2),
    for a host that replays old records while the live replicator runs (``redrive``).
    ``bucket``: the high-water mark bucket this writer raises (default: one chosen at random, once
    per writer, that is once per Lambda execution environment).
    """

    def __init__(
        self,
        client: DynamoDBClient,
        tables: ReplicaTables,
        *,
        clock: Callable[[], float] = time.time,
        guarded_puts: bool = False,
        bucket: int | None = None,
    ) -> None:
        self._client = client
        self.tables = tables
        self._clock = clock
        self.guarded_puts = guarded_puts
        self.bucket = random.SystemRandom().randrange(tables.watermark_buckets) if bucket is None else bucket
        self._known_mark: dict[str, int] = {}
        self._mark_lock = threading.Lock()

    @property
    def client(self) -> DynamoDBClient:
        return self._client

    def now(self) -> float:
        """The writer's clock (epoch seconds): tombstones expire relative to it."""
        return self._clock()

    # -- running steps ---------------------------------------------------------------------------

    def send(self, call: Call, meter: Meter | None = None) -> Reply:
        """Send one request. A failed condition is an answer; any other error is raised, classified."""
        method = getattr(self._client, _METHODS[call.operation])
        try:
            response = method(**call.params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _CONDITION_FAILED:
                raise classify.classify(exc) from exc
            body: Mapping[str, Any] = exc.response
            if call.operation == "TransactWriteItems":
                _raise_unless_conditions(exc)
            return Reply(body, condition_failed=True)
        except BotoCoreError as exc:
            raise classify.classify(exc) from exc
        if meter is not None:
            meter.add(call.operation, response)
        return Reply(response)

    def run(self, steps: Steps[T], meter: Meter | None = None, attempt: Attempt = once) -> T:
        """Drive a protocol conversation to its end, one request at a time.

        ``attempt`` runs each request (the caller's retries go there): a request is retried on its
        own, so a lost reply to the second write of a REMOVE never makes the first one look undone.
        """
        try:
            call = next(steps)
            while True:
                call = steps.send(attempt(lambda c=call: self.send(c, meter)))  # type: ignore[misc]
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    # -- the replicator's writes -----------------------------------------------------------------

    def apply(
        self,
        write: Write,
        *,
        tombstone: Tombstone = UNKNOWN,
        meter: Meter | None = None,
        attempt: Attempt = once,
    ) -> Outcome:
        """Make the replica reflect ``write`` unless it already holds something newer."""
        if self.guarded_puts and write.action is Action.PUT:
            return self.run(protocol.guarded_put(self.tables, write), meter, attempt)
        steps = protocol.replicate(self.tables, write, tombstone=tombstone, now=self.now())
        return self.run(steps, meter, attempt)

    def read_tombstones(self, key_hashes: Iterable[str], meter: Meter | None = None) -> dict[str, str]:
        """The tombstone versions of at most 100 keys, by key hash, in one consistent BatchGetItem."""
        (call,) = protocol.tombstone_reads(self.tables, key_hashes)
        found = protocol.batch_versions(self.tables.state, self.send(call, meter))
        return protocol.tombstones_by_hash(found)

    def advance_watermark(self, source_table: str, version: str, meter: Meter | None = None) -> None:
        """Raise this writer's bucket of the mark to ``version``; skipped when it cannot raise it."""
        with self._mark_lock:
            known = self._known_mark.get(source_table)
        if known is not None and known >= decode(version):
            return
        now = self.run(protocol.raise_watermark(self.tables, source_table, self.bucket, version), meter)
        with self._mark_lock:
            self._known_mark[source_table] = max(self._known_mark.get(source_table, 0), decode(now))


def _raise_unless_conditions(exc: ClientError) -> None:
    """A cancelled transaction is an answer only if a condition cancelled it (not a conflict)."""
    reasons = exc.response.get("CancellationReasons") or []
    codes = [str(reason.get("Code") or "None") for reason in reasons]
    if "ConditionalCheckFailed" in codes:
        return
    failing = next((code for code in codes if code != "None"), "TransactionCanceledException")
    message = next((str(r.get("Message", "")) for r in reasons if r.get("Code") == failing), "")
    raise classify.from_code(failing, message) from exc
