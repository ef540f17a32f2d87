"""A stream record read from GetRecords, shaped once as Lambda delivers it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ddbstream.lambda_event import lambda_record


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """One record on its way to a function: the event form plus what the mapping needs to know."""

    sequence_number: str
    sequence: int
    created_at: float | None
    """ApproximateCreationDateTime in epoch seconds (rounded down, as in Lambda's events)."""
    event: dict[str, Any]
    size_bytes: int
    """Size of the record in the invocation payload (its JSON)."""

    @classmethod
    def from_stream(cls, raw: Mapping[str, Any], *, stream_arn: str) -> PendingRecord:
        event = lambda_record(raw, stream_arn=stream_arn)
        body = event["dynamodb"]
        created = body.get("ApproximateCreationDateTime")
        sequence_number = str(body["SequenceNumber"])
        return cls(
            sequence_number=sequence_number,
            sequence=int(sequence_number),
            created_at=float(created) if created is not None else None,
            event=event,
            size_bytes=len(json.dumps(event, separators=(",", ":"))),
        )
