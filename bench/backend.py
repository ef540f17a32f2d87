"""A replica backend that costs nothing but a configurable round trip.

A botocore ``before-send`` hook answers every request itself after sleeping for the round trip,
so what is measured is the client side (our code, botocore, the connection pool, threads) at a
given latency, not a server. The sleep releases the GIL, as a network wait would.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse

from faultlab.wire import json_response, operation_of


class LatencyBackend:
    """Answers every DynamoDB call with success after ``latency`` seconds; counts calls by operation."""

    def __init__(self, client: Any, latency: float) -> None:
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        client.meta.events.register("before-send.dynamodb", self._answer)

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        operation = operation_of(request)
        with self._lock:
            self.calls[operation] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.latency)
        with self._lock:
            self.in_flight -= 1
        return json_response(200, b"{}")
