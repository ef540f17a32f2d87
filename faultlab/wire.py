"""What injected faults look like on the wire: botocore responses and requests, read and made up."""

from __future__ import annotations

import json
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

from replicator.core.schema import STATE_PARTITION_KEY, TOMBSTONE_PREFIX


class _Body:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_: Any) -> Any:
        yield self._payload


def json_response(status: int, body: bytes) -> AWSResponse:
    """A DynamoDB (JSON 1.0) response made up on the client: botocore parses it as if it came back."""
    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = "injected"
    headers["Content-Type"] = "application/x-amz-json-1.0"
    return AWSResponse("https://injected", status, headers, _Body(body))


def error_response(status: int, code: str, message: str = "injected fault") -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    return json_response(status, body)


def operation_of(request: Any) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    text = target.decode() if isinstance(target, bytes) else str(target)
    return text.rsplit(".", 1)[-1]


def body_of(request: Any) -> bytes:
    body = request.body
    if isinstance(body, str):
        return body.encode()
    return body if isinstance(body, bytes) else b""


def writes_item(operation: str, body: bytes, table: str) -> bool:
    """Whether a request's success is what makes a record *replicated*: a put of an item of
    ``table``, a REMOVE's tombstone (its first write: the item delete that follows only finishes
    it), or a transaction on ``table`` (redrive's guarded put). Not the high-water mark."""
    if operation not in ("PutItem", "TransactWriteItems"):
        return False
    request = json.loads(body or b"{}")
    if operation == "PutItem":
        pk = request.get("Item", {}).get(STATE_PARTITION_KEY, {}).get("S", "")
        return bool(request.get("TableName") == table or str(pk).startswith(TOMBSTONE_PREFIX))
    return any(
        entry.get(action, {}).get("TableName") == table
        for entry in request.get("TransactItems", [])
        for action in ("Put", "Delete")
    )
