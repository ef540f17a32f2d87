"""Synthetic stream records in Lambda's event shape, for benchmarks that need no real stream."""

from __future__ import annotations

import time
from typing import Any

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"


def lambda_records(count: int, *, keys: int | None = None, payload_bytes: int = 100) -> list[dict[str, Any]]:
    """``count`` MODIFY records over ``keys`` distinct keys (all distinct when None), in stream order."""
    now = int(time.time())
    distinct = keys or count
    records = []
    for i in range(count):
        user = {"S": f"user-{i % distinct:07d}"}
        keys_map = {"user_id": user, "timestamp": {"N": "1700000000"}}
        image = {**keys_map, "plan": {"S": "pro"}, "payload": {"S": "x" * payload_bytes}, "n": {"N": str(i)}}
        records.append(
            {
                "eventID": str(i),
                "eventName": "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "eventSourceARN": STREAM_ARN,
                "dynamodb": {
                    "ApproximateCreationDateTime": now,
                    "Keys": keys_map,
                    "NewImage": image,
                    "OldImage": image,
                    "SequenceNumber": str(10**20 + i),
                    "SizeBytes": 2 * payload_bytes + 60,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        )
    return records
