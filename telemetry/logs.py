"""The handlers' log lines: one JSON object per line, written to stdout with the EMF documents.

Both consumers build their lines purely and write them once per invocation, after the metric
documents are built. A line carries a level, a message, counts, error classes, sequence numbers
or key hashes, and the Lambda request id: never an item's contents or a user id.
"""

from __future__ import annotations

import json


def log_line(level: str, message: str, *, request_id: str | None, **fields: object) -> str:
    """One JSON log line: ``level`` and ``message`` first, then ``fields``, then ``requestId``."""
    return json.dumps({"level": level, "message": message, **fields, "requestId": request_id})
