"""The fault layer: faults injected into one boto3 client through botocore's event hooks.

``before-send`` answers a request without sending it (throttling, a 500 or 503, a timeout before
the request reached the server, the whole region unreachable) or delays it (latency);
``after-call`` raises after the request was sent and applied (a lost reply: the write happened,
the caller sees a read timeout). The client parses injected answers exactly as real ones, so the
code under test sees the same ``ClientError`` and ``BotoCoreError`` values AWS would give it.

Two ways to say what to inject:

* rules for one test: ``throttle_first``, ``fail_always``, ``raise_always``, ``crash_after`` and
  ``lose_reply`` (counted under the status code or exception name);
* seeded rates per fault kind (:class:`FaultRates`), bursts and region outages as time windows, and
  a crash armed per Lambda invocation (:meth:`FaultInjector.invocation`), for the fault-injection
  suite and ``make soak``, counted by :class:`FaultKind`.

Rates are drawn per request from a generator seeded with (seed, the request body's digest, how
often that body was sent before): the same request meets the same fate in every run, whichever
thread happens to send it first.
"""

from __future__ import annotations

import enum
import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from faultlab.ledger import ORIGIN_HEADER
from faultlab.wire import body_of, error_response, operation_of, writes_item


class SimulatedCrash(BaseException):
    """The Lambda runtime died mid-invocation: nothing after this point runs."""


class FaultKind(enum.StrEnum):
    THROTTLE = "throttle"
    SERVER_ERROR = "server-error"  # 500 InternalServerError or 503 ServiceUnavailable
    TIMEOUT = "timeout"  # the request never reached the server; the caller sees a read timeout
    LOST_REPLY = "lost-reply"  # the write was applied, the caller sees a read timeout
    LATENCY = "latency"
    OUTAGE = "outage"  # the region is unreachable: connection refused or connect timeout
    CRASH = "crash"  # the runtime died part-way through the invocation


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Probability per request of each fault; at most one error per request, latency on top."""

    throttle: float = 0.0
    server_error: float = 0.0
    timeout: float = 0.0
    lost_reply: float = 0.0
    latency: float = 0.0
    latency_seconds: tuple[float, float] = (0.005, 0.05)

    def __post_init__(self) -> None:
        errors = (self.throttle, self.server_error, self.timeout, self.lost_reply)
        if not all(0.0 <= p <= 1.0 for p in (*errors, self.latency)) or sum(errors) > 1.0:
            raise ValueError(f"fault probabilities must be within 0..1 and add up to at most 1: {self}")


NO_FAULTS = FaultRates()


@dataclass(slots=True)
class InvocationFaults:
    """What the fault layer saw and did during one Lambda invocation (by its request id)."""

    request_id: str
    crash_after: int | None = None
    calls: int = 0
    crashed: bool = False
    acknowledged_writes: int = 0
    """Item writes the server applied *and* whose reply reached the caller."""
    lost_write_replies: int = 0
    """Item writes the server applied whose reply was lost (each retry finds it already applied)."""
    throttles: int = 0
    attempts: Counter[str] = field(default_factory=Counter)
    """Attempts per distinct request body: retries of one write send the same body."""

    @property
    def max_attempts(self) -> int:
        return max(self.attempts.values(), default=0)


@dataclass(slots=True)
class _Pending:
    invocation: InvocationFaults
    item_write: bool
    lose_reply: bool


def _moto_stubber() -> Any:
    """The in-process mock's request handler, when moto is installed, else None."""
    try:
        from moto.core.models import botocore_stubber  # noqa: PLC0415 - moto is a test/local dependency
    except ImportError:
        return None
    return botocore_stubber


class FaultInjector:
    """Decides per request whether to inject a fault; thread-safe, counts what it injected."""

    def __init__(
        self,
        client: Any,
        *,
        operations: frozenset[str] | None = None,
        seed: int = 0,
        rates: FaultRates = NO_FAULTS,
        item_table: str | None = None,
        origin: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.operations = operations
        self.seed = seed
        self.rates = rates
        self.item_table = item_table
        self.origin = origin
        self.clock = clock
        self._sleep = sleep
        self.calls = 0
        self.injected: Counter[str] = Counter()
        self.invocations: dict[str, InvocationFaults] = {}
        self._idle = InvocationFaults("")
        self._current = self._idle
        self._bursts: list[tuple[float, float, FaultRates]] = []
        self._outages: list[tuple[float, float]] = []
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._before: list[Callable[[int, str], AWSResponse | None]] = []
        self._after: list[Callable[[int, str], BaseException | None]] = []
        self._client = client
        # botocore emits before-send to *every* handler and uses the first response, so with moto's
        # in-process mock an injected error would still let moto apply the request (a throttle
        # would act as a lost reply). The mock's handler is therefore taken off this client and
        # called by ours only when no fault answers. Over HTTP (the embedded server) the mock is
        # not active and the request is sent as usual.
        self._moto = _moto_stubber()
        if self._moto is not None:
            client.meta.events.unregister("before-send", self._moto)
        client.meta.events.register("before-send.dynamodb", self._before_send)
        client.meta.events.register("after-call.dynamodb", self._after_call)

    def remove(self) -> None:
        """Stop injecting: unregister from the client's events."""
        self._client.meta.events.unregister("before-send.dynamodb", self._before_send)
        self._client.meta.events.unregister("after-call.dynamodb", self._after_call)
        if self._moto is not None:
            self._client.meta.events.register("before-send", self._moto)

    # -- time windows and invocations -----------------------------------------------------------

    def burst(self, start: float, end: float, rates: FaultRates) -> FaultInjector:
        """Between ``start`` and ``end`` (on :attr:`clock`), ``rates`` replace the base rates."""
        with self._lock:
            self._bursts.append((start, end, rates))
        return self

    def outage(self, start: float, end: float) -> FaultInjector:
        """Between ``start`` and ``end`` every request fails as if the region were unreachable."""
        with self._lock:
            self._outages.append((start, end))
        return self

    def in_outage(self, now: float | None = None) -> bool:
        moment = self.clock() if now is None else now
        return any(start <= moment < end for start, end in self._outages)

    @contextmanager
    def invocation(self, request_id: str, *, crash_after: int | None = None) -> Iterator[InvocationFaults]:
        """Attribute requests to one invocation; with ``crash_after``, request number
        ``crash_after + 1`` and every later one raise :class:`SimulatedCrash` instead of being sent."""
        state = InvocationFaults(request_id, crash_after)
        with self._lock:
            self.invocations[request_id] = state
            self._current = state
        try:
            yield state
        finally:
            with self._lock:
                if self._current is state:
                    self._current = self._idle

    # -- the hooks -------------------------------------------------------------------------------

    def _count(self, kind: str) -> None:
        self.injected[kind] += 1

    def _applies(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations

    def _rates_at(self, now: float) -> FaultRates:
        for start, end, rates in self._bursts:
            if start <= now < end:
                return rates
        return self.rates

    def _draw(self, operation: str, body: bytes) -> tuple[random.Random, str]:
        digest = hashlib.blake2b(body, digest_size=8).hexdigest()
        occurrence = self._seen[digest]
        self._seen[digest] += 1
        return random.Random(f"{self.seed}:{operation}:{digest}:{occurrence}"), digest  # noqa: S311

    def _before_send(self, request: Any, **kwargs: Any) -> Any:
        response = self._inject(request)
        if response is None and self._moto is not None:
            return self._moto(request=request, **kwargs)
        return response

    def _inject(self, request: Any) -> AWSResponse | None:
        """An injected answer, an exception, or None to let the request through."""
        operation = operation_of(request)
        if not self._applies(operation):
            return None
        body = body_of(request)
        delay = 0.0
        self._local.pending = None  # a request that raised before its after-call left one behind
        with self._lock:
            self.calls += 1
            number = self.calls
            invocation = self._current
            invocation.calls += 1
            rng, digest = self._draw(operation, body)
            invocation.attempts[digest] += 1
            request.headers[ORIGIN_HEADER] = f"{self.origin}/{invocation.request_id}"
            now = self.clock()
            if self.in_outage(now):
                self._count(FaultKind.OUTAGE)
                if rng.random() < 0.5:
                    raise EndpointConnectionError(endpoint_url=request.url)
                raise ConnectTimeoutError(endpoint_url=request.url)
            if invocation.crash_after is not None and invocation.calls > invocation.crash_after:
                if not invocation.crashed:
                    invocation.crashed = True
                    self._count(FaultKind.CRASH)
                raise SimulatedCrash(f"crash before request {invocation.calls} of the invocation")
            for rule in self._before:
                response = rule(number, operation)
                if response is not None:
                    self._count(f"{response.status_code}")
                    return response
            rates = self._rates_at(now)
            if rates.latency and rng.random() < rates.latency:
                self._count(FaultKind.LATENCY)
                delay = rng.uniform(*rates.latency_seconds)
            roll = rng.random()
            response, lose = self._decide(roll, rates, rng, invocation, request.url)
            item_write = self.item_table is not None and writes_item(operation, body, self.item_table)
            self._local.pending = _Pending(invocation, item_write, lose)
        if delay:
            self._sleep(delay)
        return response

    def _decide(
        self, roll: float, rates: FaultRates, rng: random.Random, invocation: InvocationFaults, url: str
    ) -> tuple[AWSResponse | None, bool]:
        """The injected answer (None: send the request) and whether to lose its reply."""
        if roll < rates.throttle:
            self._count(FaultKind.THROTTLE)
            invocation.throttles += 1
            code = rng.choice(("ProvisionedThroughputExceededException", "ThrottlingException"))
            return error_response(400, code), False
        roll -= rates.throttle
        if roll < rates.server_error:
            self._count(FaultKind.SERVER_ERROR)
            status, code = rng.choice(((500, "InternalServerError"), (503, "ServiceUnavailable")))
            return error_response(status, code), False
        roll -= rates.server_error
        if roll < rates.timeout:
            self._count(FaultKind.TIMEOUT)
            raise ReadTimeoutError(endpoint_url=url)
        roll -= rates.timeout
        return None, roll < rates.lost_reply

    def _after_call(self, model: Any, http_response: Any = None, **_: Any) -> None:
        operation = model.name
        if not self._applies(operation):
            return
        pending: _Pending | None = getattr(self._local, "pending", None)
        self._local.pending = None
        status = getattr(http_response, "status_code", 0)
        with self._lock:
            number = self.calls
            for rule in self._after:
                error = rule(number, operation)
                if error is not None:
                    self._count(type(error).__name__)
                    raise error
            if pending is None or not 200 <= status < 300:
                return
            if pending.lose_reply:
                self._count(FaultKind.LOST_REPLY)
                pending.invocation.lost_write_replies += int(pending.item_write)
                raise ReadTimeoutError(endpoint_url="https://injected")
            if pending.item_write:
                pending.invocation.acknowledged_writes += 1

    # -- rules for single tests ------------------------------------------------------------------

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
