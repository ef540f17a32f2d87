"""Inject faults into a boto3 client through botocore's event hooks, with no network tricks.

``before-send`` answers a request without sending it (throttling, 5xx, a crash before the write);
``after-call`` raises after the request was sent and applied (a lost reply).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ReadTimeoutError


class SimulatedCrash(BaseException):
    """The Lambda runtime died mid-invocation: nothing after this point runs."""


class _Body:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_: Any) -> Any:
        yield self._payload


def error_response(status: int, code: str, message: str = "injected fault") -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = "injected"
    headers["Content-Type"] = "application/x-amz-json-1.0"
    return AWSResponse("https://injected", status, headers, _Body(body))


def operation_of(request: Any) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    text = target.decode() if isinstance(target, bytes) else str(target)
    return text.rsplit(".", 1)[-1]


class FaultInjector:
    """Decides per request whether to inject a fault; thread-safe, deterministic given its rules."""

    def __init__(self, client: Any, *, operations: frozenset[str] | None = None) -> None:
        self.operations = operations
        self.calls = 0
        self.injected: dict[str, int] = {}
        self._lock = threading.Lock()
        self._before: list[Callable[[int, str], AWSResponse | None]] = []
        self._after: list[Callable[[int, str], BaseException | None]] = []
        self._client = client
        client.meta.events.register("before-send.dynamodb", self._before_send)
        client.meta.events.register("after-call.dynamodb", self._after_call)

    def remove(self) -> None:
        """Stop injecting: unregister from the client's events."""
        self._client.meta.events.unregister("before-send.dynamodb", self._before_send)
        self._client.meta.events.unregister("after-call.dynamodb", self._after_call)

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def _applies(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = operation_of(request)
        if not self._applies(operation):
            return None
        with self._lock:
            self.calls += 1
            number = self.calls
            for rule in self._before:
                response = rule(number, operation)
                if response is not None:
                    self._count(f"{response.status_code}")
                    return response
        return None

    def _after_call(self, model: Any, **_: Any) -> None:
        operation = model.name
        if not self._applies(operation):
            return
        with self._lock:
            number = self.calls
            for rule in self._after:
                error = rule(number, operation)
                if error is not None:
                    self._count(type(error).__name__)
                    raise error

    def throttle_first(self, count: int) -> FaultInjector:
        """The first ``count`` matching requests answer ProvisionedThroughputExceededException."""
        self._before.append(
            lambda n, _: error_response(400, "ProvisionedThroughputExceededException") if n <= count else None
        )
        return self

    def fail_always(self, status: int, code: str, message: str = "injected fault") -> FaultInjector:
        self._before.append(lambda n, _: error_response(status, code, message))
        return self

    def raise_always(self, error: Exception) -> FaultInjector:
        """Every matching request raises ``error`` instead of being sent (a defect, not an AWS error)."""

        def rule(n: int, _: str) -> AWSResponse | None:
            raise error

        self._before.append(rule)
        return self

    def crash_after(self, count: int) -> FaultInjector:
        """The request after ``count`` matching requests never happens: the runtime dies instead."""

        def rule(n: int, _: str) -> AWSResponse | None:
            if n > count:
                raise SimulatedCrash(f"crash before request {n}")
            return None

        self._before.append(rule)
        return self

    def lose_reply(self, numbers: frozenset[int]) -> FaultInjector:
        """Requests with these ordinals are applied, but the caller sees a read timeout."""
        self._after.append(
            lambda n, _: ReadTimeoutError(endpoint_url="https://injected") if n in numbers else None
        )
        return self
