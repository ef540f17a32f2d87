"""Synthetic stream records in Lambda's event shape, for benchmarks that need no real stream."""

from __future__ import annotations

import time
from typing import Any

from tests.support.events import record


def lambda_records(count: int, *, keys: int | None = None, payload_bytes: int = 100) -> list[dict[str, Any]]:
    """``count`` MODIFY records over ``keys`` distinct keys (all distinct when None), in stream order."""
    now = int(time.time())
    distinct = keys or count
    records = []
    for i in range(count):
        key = {"user_id": {"S": f"user-{i % distinct:07d}"}, "timestamp": {"N": "1700000000"}}
        image = {**key, "plan": {"S": "pro"}, "payload": {"S": "x" * payload_bytes}, "n": {"N": str(i)}}
        records.append(
            record(10**20 + i, "MODIFY", keys=key, new_image=image, old_image=image, created_at=now)
        )
    return records
