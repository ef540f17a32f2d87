"""Helpers shared by the local-runtime tests: pending records, clocks, collaborators that record calls."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from localrun.esm.records import PendingRecord
from localrun.invoke.function import Invocation
from tests.support.events import STREAM_ARN, raw_record


def record(seq: int, created_at: float = 1_700_000_000.0, size: int | None = None) -> PendingRecord:
    """A pending record with a chosen sequence number and creation time (for pure rules only);
    ``size`` overrides its payload size, for the mapping's 6 MB rule."""
    pending = PendingRecord.from_stream(
        raw_record(f"{seq:021d}", "INSERT", created_at=created_at), stream_arn=STREAM_ARN
    )
    return pending if size is None else replace(pending, size_bytes=size)


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
