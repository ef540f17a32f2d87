"""Every write the replica table accepted, in the order the embedded server applied them.

"Per key, applied versions never go backwards" is a statement about the writes the replica
*accepted*, in the order they took effect, whoever sent them: the replicator function, an
invocation that timed out and kept running, the operator CLI's redrive. Hooks on one client see
replies in whatever order its threads happen to run and miss the other clients, so the ledger
sits in the embedded server instead (``EmbeddedServer(tap=ReplicaLedger(...))``): the server
serves one request at a time, and the tap is called under that lock, after moto answered.

Only successful requests (HTTP 2xx) count; a cancelled transaction or a failed condition changed
nothing. Requests carry the ``X-Localrun-Origin`` header the fault layer adds (function and
invocation), so a write can be traced to the invocation that made it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ddbstream import key_id, primary_key
from replicator.core.schema import VERSION_ATTRIBUTE

ORIGIN_HEADER = "X-Localrun-Origin"
_ORIGIN_ENVIRON = "HTTP_" + ORIGIN_HEADER.upper().replace("-", "_")
_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/dynamodb/")


@dataclass(frozen=True, slots=True)
class AcceptedWrite:
    order: int
    operation: str
    key: str
    version: str | None
    """``repl:version`` of the written item (or of the condition of a delete); None if unversioned."""
    deleted: bool
    seq: str | None
    """The sequenced workload's per-key counter in the written item, when it has one."""
    origin: str


def _value(item: Mapping[str, Any] | None, name: str, kind: str) -> str | None:
    value = (item or {}).get(name)
    return value.get(kind) if isinstance(value, Mapping) else None


class ReplicaLedger:
    """A :data:`localrun.aws.server.RequestTap` recording the writes one table accepted."""

    def __init__(
        self, *, region: str, table: str, key_names: Sequence[str], seq_attribute: str = "seq"
    ) -> None:
        self.region = region
        self.table = table
        self.key_names = tuple(key_names)
        self.seq_attribute = seq_attribute
        self._lock = threading.Lock()
        self._writes: list[AcceptedWrite] = []

    def __call__(self, environ: Mapping[str, Any], body: bytes, status: int) -> None:
        if not 200 <= status < 300:
            return
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith("DynamoDB_"):
            return
        found = _REGION.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        if found is None or found.group(1) != self.region:
            return
        operation = target.rsplit(".", 1)[-1]
        request = json.loads(body or b"{}")
        origin = str(environ.get(_ORIGIN_ENVIRON, ""))
        with self._lock:
            for action, detail in self._actions(operation, request):
                self._record(operation, action, detail, origin)

    def _actions(self, operation: str, request: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
        if operation in ("PutItem", "DeleteItem", "UpdateItem"):
            yield operation.removesuffix("Item"), request
        elif operation == "TransactWriteItems":
            for entry in request.get("TransactItems", []):
                for action in ("Put", "Delete", "Update"):
                    if action in entry:
                        yield action, entry[action]
        elif operation == "BatchWriteItem":
            for entry in request.get("RequestItems", {}).get(self.table, []):
                if "PutRequest" in entry:
                    yield "Put", {"TableName": self.table, **entry["PutRequest"]}
                if "DeleteRequest" in entry:
                    yield "Delete", {"TableName": self.table, **entry["DeleteRequest"]}

    def _record(self, operation: str, action: str, detail: Mapping[str, Any], origin: str) -> None:
        if detail.get("TableName") != self.table:
            return
        item = detail.get("Item")
        if action == "Put" and isinstance(item, Mapping):
            key, version = key_id(primary_key(item, self.key_names)), _value(item, VERSION_ATTRIBUTE, "S")
            seq = _value(item, self.seq_attribute, "N")
        else:
            key, seq = key_id(primary_key(detail["Key"], self.key_names)), None
            version = _value(detail.get("ExpressionAttributeValues"), ":v", "S")
        self._writes.append(
            AcceptedWrite(len(self._writes), operation, key, version, action == "Delete", seq, origin)
        )

    def writes(self) -> list[AcceptedWrite]:
        with self._lock:
            return list(self._writes)

    def by_key(self) -> dict[str, list[AcceptedWrite]]:
        out: dict[str, list[AcceptedWrite]] = {}
        for write in self.writes():
            out.setdefault(write.key, []).append(write)
        return out
