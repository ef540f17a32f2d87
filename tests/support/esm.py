"""Helpers shared by the local-runtime tests: records, clocks, collaborators that record calls."""

from __future__ import annotations

import threading
import time
from typing import Any

from localrun.esm.records import PendingRecord
from localrun.invoke.function import Invocation

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"


def record(seq: int, created_at: float = 1_700_000_000.0, size: int = 100) -> PendingRecord:
    """A pending record with a chosen sequence number and creation time (for pure rules only)."""
    text = f"{seq:021d}"
    event = {
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": text, "ApproximateCreationDateTime": created_at},
    }
    return PendingRecord(text, seq, created_at, event, size)


def answered(response: Any) -> Invocation:
    return Invocation("req-1", response, None, None, 1.0)


def raised(error_type: str = "ValueError") -> Invocation:
    return Invocation("req-1", None, error_type, "boom", 1.0)


class Clock:
    """Wall-clock time plus an offset that a test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Recorder:
    """A handler collaborator: records every event, answers with what ``respond`` returns."""

    def __init__(self, respond: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.respond = respond
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            self.events.append(event)
        if callable(self.respond):
            return self.respond(event, context)
        return self.respond

    @property
    def batches(self) -> list[list[str]]:
        """Sequence numbers of each invocation's records."""
        return [[r["dynamodb"]["SequenceNumber"] for r in event["Records"]] for event in self.events]
