"""A replica backend that costs nothing but a configurable round trip.

A botocore event hook answers every request itself after sleeping for the round trip, so what is
measured is the client side (our code, botocore, the connection pool, threads) at a given latency,
not a server. The sleep releases the GIL, as a network wait would.

Every request is answered ``{}``: success with no attributes. A BatchGetItem answered so found no
item and left no UnprocessedKeys (the replicator reads it as "no tombstones").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse

from faultlab.wire import json_response, operation_of


class LatencyBackend:
    """Answers every DynamoDB call with success after ``latency`` seconds; counts calls by operation.

    By default a request is answered when botocore is about to send it (``before-send``): it has
    been serialised and signed, and the answer is parsed, so the client's whole CPU cost is paid.
    With ``before_signing`` it is answered at ``before-call``, once validated and serialised but
    before botocore signs it, sends it and parses the answer: for benchmarks that run many
    simulated execution environments on one host, where that CPU, which each Lambda environment
    has to itself, would otherwise be what is measured.
    """

    def __init__(self, client: Any, latency: float, *, before_signing: bool = False) -> None:
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        if before_signing:
            client.meta.events.register("before-call.dynamodb", self._answer_unsigned)
        else:
            client.meta.events.register("before-send.dynamodb", self._answer)

    def _wait(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.latency)
        with self._lock:
            self.in_flight -= 1

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        self._wait(operation_of(request))
        return json_response(200, b"{}")

    def _answer_unsigned(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        self._wait(model.name)
        # What botocore would have parsed from "{}": no fields, and the response's metadata.
        return json_response(200, b"{}"), {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
