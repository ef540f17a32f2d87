"""A test harness for the metrics consumer: a fixed clock, captured and validated EMF output, and
assertions comparing what was published with the ground truth of :class:`UsageModel`."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from typing import Any

from metrics.handler import Consumer, SummarySink
from metrics.settings import Settings
from telemetry import catalogue as c
from tests.support.emf import EmfDocument, parse_output, totals
from tests.support.usage import SETTINGS, Expected, UsageModel

PLATFORMS = ("ios", "android", "web", "tv", None)


def minute(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:00Z")


class Run:
    """A consumer with a fixed clock and captured output; every document is validated on the way."""

    def __init__(self, settings: Settings = SETTINGS, *, store: SummarySink | None = None) -> None:
        self.now = time.time() + 1.5
        self.out = io.StringIO()
        self.consumer = Consumer(settings, self.out, clock=lambda: self.now, store=store)
        self.documents: list[list[EmfDocument]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        before = len(self.lines)
        # Lambda passes the state through JSON between invocations: so do we.
        response: dict[str, Any] = json.loads(
            json.dumps(self.consumer.handle(json.loads(json.dumps(event)), None))
        )
        self.documents.append(parse_output(self.lines[before:]))
        return response

    @property
    def lines(self) -> list[str]:
        """Every line the consumer wrote so far: EMF documents and log lines."""
        return self.out.getvalue().splitlines()

    def series(self, invocation: int | None = None) -> dict[Any, list[float]]:
        chosen = self.documents if invocation is None else [self.documents[invocation]]
        return totals(doc for docs in chosen for doc in docs)


def workload(model: UsageModel, first: int, count: int) -> None:
    for i in range(first, first + count):
        row: dict[str, str | int] = {
            "user_id": f"u{i % 13}",
            "timestamp": i,
            "plan": "free",
            "payload": "x" * i,
        }
        if PLATFORMS[i % 5] is not None:
            row["platform"] = str(PLATFORMS[i % 5])
        model.put(row)
    for i in range(first, first + count, 4):
        model.put(
            {"user_id": f"u{i % 13}", "timestamp": i, "plan": "pro", "country": "FR", "platform": "web"}
        )
    for i in range(first + 1, first + count, 6):
        model.delete(f"u{i % 13}", i, ttl=i % 12 == 1)


def assert_rate_metrics(
    series: dict[Any, list[float]], expected: Expected, table: str, malformed: int
) -> None:
    t = (c.TABLE, table)
    assert sum(series[(c.ITEM_CHANGES.name, (t,))]) == expected.item_changes
    for event_name, count in expected.by_event.items():
        assert sum(series[(c.ITEM_CHANGES.name, ((c.EVENT_NAME, event_name), t))]) == count
    for segment, count in expected.by_segment.items():
        assert sum(series[(c.ITEM_CHANGES.name, ((c.SEGMENT, segment), t))]) == count
    assert sum(series[(c.TTL_DELETES.name, (t,))]) == expected.ttl_deletes
    assert sum(series[(c.MALFORMED_RECORDS.name, (t,))]) == malformed
    for (attribute, change), count in expected.attribute_changes.items():
        key = (c.ATTRIBUTE_CHANGES.name, ((c.ATTRIBUTE, attribute), (c.CHANGE_TYPE, change), t))
        assert sum(series[key]) == count
    published = {k for k in series if k[0] == c.ATTRIBUTE_CHANGES.name}
    assert len(published) == len(expected.attribute_changes)


def assert_active_users(series: dict[Any, list[float]], expected: Expected, table: str) -> None:
    t = (c.TABLE, table)
    assert series[(c.ACTIVE_USERS.name, (t,))] == [expected.active_users]
    for segment, users in expected.users_by_segment.items():
        assert series[(c.ACTIVE_USERS.name, ((c.SEGMENT, segment), t))] == [len(users)]
