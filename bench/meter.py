"""A request meter on a live boto3 client: every DynamoDB request priced by ``bench.capacity``.

The meter hooks botocore's events, so it sees every request the client sends, including those
whose condition fails. Before a request is built it reads the items the request touches through
another, unmetered client (a price depends on the stored item's size); after the answer it prices
the request by :func:`bench.capacity.price`. It also counts the HTTP bytes sent and received, for
the cross-region transfer.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import urlsplit

from bench.capacity import Answer, Kind, Touch, Units, UnpricedOperation, answer_of, price
from ddbstream import Item, item_size_bytes, key_id, primary_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class ItemReader(Protocol):
    """Reads stored items for the meter, without being metered itself."""

    def key_names(self, table: str) -> tuple[str, ...]: ...

    def items(self, table: str, keys: Sequence[Item]) -> list[Item | None]: ...


class TableReader:
    """:class:`ItemReader` over a plain client of the same endpoint (strongly consistent reads)."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._keys: dict[str, tuple[str, ...]] = {}

    def key_names(self, table: str) -> tuple[str, ...]:
        if table not in self._keys:
            schema = self._client.describe_table(TableName=table)["Table"]["KeySchema"]
            self._keys[table] = tuple(k["AttributeName"] for k in schema)
        return self._keys[table]

    def items(self, table: str, keys: Sequence[Item]) -> list[Item | None]:
        found: dict[str, Any] = {}
        names = self.key_names(table)
        for start in range(0, len(keys), 100):
            pending: Any = {table: {"Keys": list(keys[start : start + 100]), "ConsistentRead": True}}
            while pending:
                page = self._client.batch_get_item(RequestItems=pending)
                for item in page["Responses"].get(table, []):
                    found[key_id(primary_key(item, names))] = item
                pending = page.get("UnprocessedKeys") or None
        return [found.get(key_id(key)) for key in keys]


def _size(item: Item | None) -> int | None:
    return None if item is None else item_size_bytes(item)


@dataclass(frozen=True, slots=True)
class _Target:
    """An item a pending request touches, before the answer: where it is and what it was."""

    kind: Kind
    table: str
    key: dict[str, Any]
    before: int | None
    written: Item | None = None
    consistent: bool = True


_CONTEXT_KEY: Final = "bench.capacity"
_ACTIONS: Final = {
    "Put": Kind.PUT,
    "Update": Kind.UPDATE,
    "Delete": Kind.DELETE,
    "ConditionCheck": Kind.CHECK,
}


@dataclass(frozen=True, slots=True)
class Reading:
    """What a meter has counted: units, requests and failed conditions by operation, HTTP bytes."""

    units: Units
    units_by_operation: Mapping[str, Units]
    requests: Mapping[str, int]
    conditions_failed: Mapping[str, int]
    http_bytes: int


class RequestMeter:
    """Prices every DynamoDB request of the clients it is attached to (thread-safe).

    ``remember_writes``: keep the size of every item the metered clients wrote, and read through
    ``reader`` only items not seen yet. Only right when nothing else writes the metered tables; it
    spares the benchmark a read of each item before each write (moto answers slowly).
    """

    def __init__(self, reader: ItemReader, *, remember_writes: bool = False) -> None:
        self._reader = reader
        self._lock = threading.Lock()
        self._remember = remember_writes
        self._sizes: dict[tuple[str, str], int | None] = {}
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._units = Units()
            self._by_operation: dict[str, Units] = {}
            self._requests: Counter[str] = Counter()
            self._failed: Counter[str] = Counter()
            self._bytes = 0

    def reading(self) -> Reading:
        with self._lock:
            return Reading(
                self._units, dict(self._by_operation), dict(self._requests), dict(self._failed), self._bytes
            )

    def attach(self, client: Any) -> None:
        """Hook the meter on ``client`` (use as ``build_replicator(..., instrument=meter.attach)``)."""
        events = client.meta.events
        events.register("before-parameter-build.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)
        # First, so that it still runs when another before-send handler (moto) answers the request.
        events.register_first("before-send.dynamodb", self._sent)

    # -- botocore events ----------------------------------------------------------------------------

    def _before(self, params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_CONTEXT_KEY] = self._targets(model.name, params)

    def _after(
        self, http_response: Any, parsed: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        targets: list[_Target] = context.pop(_CONTEXT_KEY, [])
        answer = answer_of(http_response.status_code, parsed)
        if model.name == "BatchGetItem":
            targets = _processed(targets, parsed.get("UnprocessedKeys") or {})
        touches = [self._touch(target, answer) for target in targets]
        units = price(model.name, touches, answer)
        if self._remember and answer is Answer.SUCCEEDED:
            self._learn(targets, touches)
        received = _response_bytes(http_response)
        with self._lock:
            self._units = self._units + units
            self._by_operation[model.name] = self._by_operation.get(model.name, Units()) + units
            self._requests[model.name] += 1
            self._failed[model.name] += answer is Answer.CONDITION_FAILED
            self._bytes += received

    def _sent(self, request: Any, **_: Any) -> None:
        sent = _request_bytes(request)
        with self._lock:
            self._bytes += sent

    # -- what a request touches ------------------------------------------------------------------

    def _sizes_of(self, table: str, keys: Sequence[dict[str, Any]]) -> list[int | None]:
        """The stored sizes of ``keys`` (None: absent): remembered, or read."""
        with self._lock:
            known = {
                key_id(k): self._sizes[(table, key_id(k))] for k in keys if (table, key_id(k)) in self._sizes
            }
        missing = [k for k in keys if key_id(k) not in known]
        if missing:
            read = {
                key_id(k): _size(item)
                for k, item in zip(missing, self._reader.items(table, missing), strict=True)
            }
            known.update(read)
            if self._remember:
                with self._lock:
                    self._sizes.update({(table, k): size for k, size in read.items()})
        return [known[key_id(k)] for k in keys]

    def _learn(self, targets: Sequence[_Target], touches: Sequence[Touch]) -> None:
        """After a write succeeded: the sizes its items have now."""
        with self._lock:
            for target, touch in zip(targets, touches, strict=True):
                if touch.kind in (Kind.PUT, Kind.UPDATE, Kind.DELETE):
                    self._sizes[(target.table, key_id(target.key))] = touch.after

    def _stored(self, kind: Kind, table: str, key: dict[str, Any], **extra: Any) -> _Target:
        (size,) = self._sizes_of(table, [key])
        return _Target(kind, table, key, size, **extra)

    def _targets(self, operation: str, params: Mapping[str, Any]) -> list[_Target]:
        if operation == "BatchGetItem":
            targets: list[_Target] = []
            for table, request in params["RequestItems"].items():
                keys = list(request["Keys"])
                consistent = bool(request.get("ConsistentRead", False))
                for key, size in zip(keys, self._sizes_of(table, keys), strict=True):
                    targets.append(_Target(Kind.READ, table, key, size, consistent=consistent))
            return targets
        if operation == "TransactWriteItems":
            return [
                self._action(kind, action)
                for entry in params["TransactItems"]
                for name, action in entry.items()
                if (kind := _ACTIONS.get(name)) is not None
            ]
        if operation == "GetItem":
            consistent = bool(params.get("ConsistentRead", False))
            return [self._stored(Kind.READ, params["TableName"], params["Key"], consistent=consistent)]
        kinds = {"PutItem": Kind.PUT, "UpdateItem": Kind.UPDATE, "DeleteItem": Kind.DELETE}
        if operation in kinds:
            return [self._action(kinds[operation], params)]
        raise UnpricedOperation(f"the meter has no rule for {operation}")

    def _action(self, kind: Kind, params: Mapping[str, Any]) -> _Target:
        table = params["TableName"]
        if kind is Kind.PUT:
            key = primary_key(params["Item"], self._reader.key_names(table))
            return self._stored(kind, table, key, written=params["Item"])
        return self._stored(kind, table, dict(params["Key"]))

    def _touch(self, target: _Target, answer: Answer) -> Touch:
        after: int | None = None
        if target.written is not None:
            after = item_size_bytes(target.written)
        elif target.kind is Kind.UPDATE:
            if answer is Answer.SUCCEEDED:
                (item,) = self._reader.items(target.table, [target.key])
                after = _size(item)
            else:
                after = target.before
        return Touch(target.kind, target.before, after, target.consistent)


def _processed(targets: list[_Target], unprocessed: Mapping[str, Any]) -> list[_Target]:
    """The reads DynamoDB did: keys it handed back unprocessed were not read and cost nothing."""
    skipped = {
        (table, key_id(key)) for table, request in unprocessed.items() for key in request.get("Keys", [])
    }
    return [t for t in targets if (t.table, key_id(t.key)) not in skipped]


def _header_bytes(headers: Mapping[str, Any]) -> int:
    return sum(
        len(str(name)) + len(value if isinstance(value, bytes) else str(value)) + 4
        for name, value in headers.items()
    )


def _request_bytes(request: Any) -> int:
    """An HTTP/1.1 request's size: request line, headers, body (no TLS framing)."""
    body = request.body or b""
    line = len(f"{request.method} {urlsplit(request.url).path or '/'} HTTP/1.1\r\n")
    return (
        line
        + _header_bytes(request.headers)
        + 2
        + len(body if isinstance(body, bytes) else str(body).encode())
    )


def _response_bytes(response: Any) -> int:
    """An HTTP/1.1 response's size: status line, headers, body (no TLS framing)."""
    return len("HTTP/1.1 200 OK\r\n") + _header_bytes(response.headers) + 2 + len(response.content or b"")
