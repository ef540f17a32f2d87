"""The handlers' log lines: one JSON object per line, written to stdout with the EMF documents.

Both consumers build their lines purely and write them once per invocation, after the metric
documents are built. A line carries a timestamp, a level, a message, counts, error classes,
sequence numbers or key hashes, and the Lambda request id: never an item's contents or a user id.

Both functions run with Lambda's JSON log format, which reads ``level`` and ``timestamp`` from a
JSON line the code prints: "If the "level" value field is invalid or missing, Lambda will assign
the log output the level INFO ... If you don't supply a valid timestamp, Lambda will assign the
log the level INFO and add a timestamp for you"
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html). So
every line carries an RFC 3339 timestamp and one of the levels that page lists; without them an
ERROR line is stored as INFO, and an application log level of WARN would drop it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

Level = Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
"""The application log levels Lambda's log-level filtering knows (any other value becomes INFO)."""

_RESERVED = frozenset({"timestamp", "level", "message", "requestId"})


def log_timestamp(at: dt.datetime) -> str:
    """``at`` in UTC as RFC 3339 with milliseconds: ``2026-12-02T03:04:05.678Z``."""
    if at.tzinfo is None:
        raise ValueError(f"a log timestamp needs a timezone-aware datetime; got naive {at.isoformat()}")
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_line(
    level: Level, message: str, /, *, at: dt.datetime, request_id: str | None, **fields: object
) -> str:
    """One JSON log line: ``timestamp``, ``level`` and ``message`` first, then ``fields``, then
    ``requestId``. ``at`` is when the invocation's output was built (the caller's clock)."""
    clash = _RESERVED.intersection(fields)
    if clash:
        raise ValueError(f"log line fields {sorted(clash)} would overwrite the line's own keys")
    return json.dumps(
        {
            "timestamp": log_timestamp(at),
            "level": level,
            "message": message,
            **fields,
            "requestId": request_id,
        }
    )
