"""Errors raised while reading stream records."""

from __future__ import annotations


class MalformedRecord(ValueError):
    """A stream record that cannot be understood; the message never quotes attribute values."""

    def __init__(self, reason: str, *, sequence_number: str | None = None) -> None:
        self.reason = reason
        self.sequence_number = sequence_number
        where = f" (SequenceNumber {sequence_number})" if sequence_number else ""
        super().__init__(f"malformed stream record{where}: {reason}")
