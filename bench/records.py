"""Synthetic stream records in Lambda's event shape, for benchmarks that need no real stream."""

from __future__ import annotations

import time
from typing import Any

from tests.support.events import record


def lambda_records(
    count: int,
    *,
    keys: int | None = None,
    payload_bytes: int = 100,
    event_name: str = "MODIFY",
    first_user: int = 0,
) -> list[dict[str, Any]]:
    """``count`` MODIFY (or INSERT) records over ``keys`` distinct keys (all distinct when None),
    in stream order; users are numbered from ``first_user``."""
    now = int(time.time())
    distinct = keys or count
    records = []
    for i in range(count):
        user = first_user + i % distinct
        key = {"user_id": {"S": f"user-{user:07d}"}, "timestamp": {"N": "1700000000"}}
        image = {**key, "plan": {"S": "pro"}, "payload": {"S": "x" * payload_bytes}, "n": {"N": str(i)}}
        old_image = image if event_name == "MODIFY" else None
        records.append(
            record(
                10**20 + first_user + i,
                event_name,
                keys=key,
                new_image=image,
                old_image=old_image,
                created_at=now,
            )
        )
    return records
