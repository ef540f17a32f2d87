"""Shape records read with the DynamoDB Streams API exactly as Lambda delivers them.

``GetRecords`` through boto3 returns datetimes and bytes; Lambda's event JSON carries epoch
seconds and base64 text. The local stream runner, the tests and the benchmarks all go through
this one function, so what the handlers see off-AWS is what they see in Lambda.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ddbstream.attributes import item_to_event

EVENT_VERSION = "1.1"


def _epoch_seconds(value: object) -> int | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        # DynamoDB rounds ApproximateCreationDateTime down to the second.
        return math.floor(value.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return math.floor(value)
    return None


def lambda_record(record: Mapping[str, Any], *, stream_arn: str) -> dict[str, Any]:
    """One ``GetRecords`` record in Lambda's DynamoDB event format."""
    body = record["dynamodb"]
    shaped: dict[str, Any] = {}
    created = _epoch_seconds(body.get("ApproximateCreationDateTime"))
    if created is not None:
        shaped["ApproximateCreationDateTime"] = created
    for name in ("Keys", "NewImage", "OldImage"):
        if name in body:
            shaped[name] = item_to_event(body[name])
    for name in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if name in body:
            shaped[name] = body[name]
    event: dict[str, Any] = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion"),
        "dynamodb": shaped,
        "eventSourceARN": stream_arn,
    }
    identity = record.get("userIdentity")
    if identity:
        event["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    return event


def lambda_event(records: Sequence[Mapping[str, Any]], *, stream_arn: str) -> dict[str, Any]:
    """A whole Lambda invocation event for a batch of ``GetRecords`` records."""
    return {"Records": [lambda_record(record, stream_arn=stream_arn) for record in records]}
