"""The one factory of DynamoDB stream records for tests (and benchmarks) that need no real stream.

Records are built in the shape ``GetRecords`` returns through boto3 (what moto's stream gives:
datetimes, bytes), and shaped for Lambda by the shipped :func:`ddbstream.lambda_event.lambda_record`,
the same conversion the local runner uses. So a hand-built Lambda record cannot disagree with one
read from moto's stream, and the rule of Lambda's event shape lives in one place.

Integration tests should prefer records read from moto's stream (``regions.tap``); this factory is for
pure tests, for shapes moto cannot produce (TTL deletes, shard splits, malformed records) and for
large synthetic batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ddbstream import item_size_bytes
from ddbstream.lambda_event import lambda_record
from ddbstream.records import TTL_PRINCIPAL

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"
CREATED_AT = 1_700_000_000
Item = Mapping[str, Any]


class _Default:
    """Marks "not given" where None means "no image"."""


DEFAULT: Any = _Default()


def key(user: str = "u1", timestamp: int = 1) -> dict[str, Any]:
    """A primary key of the deployment's table: ``user_id`` (S) and ``timestamp`` (N)."""
    return {"user_id": {"S": user}, "timestamp": {"N": str(timestamp)}}


def raw_record(
    sequence: int | str,
    event_name: str = "MODIFY",
    *,
    keys: Item | None = None,
    attributes: Item | None = None,
    new_image: Item | None = DEFAULT,
    old_image: Item | None = None,
    created_at: float | dt.datetime = CREATED_AT,
    view_type: str = "NEW_AND_OLD_IMAGES",
    ttl_delete: bool = False,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """One record as ``GetRecords`` returns it through boto3 (values in client form: B is bytes).

    The new image is ``keys`` plus ``attributes`` unless given; a REMOVE has none. ``ttl_delete``
    marks the record with the identity of DynamoDB's TTL process.
    """
    keys = dict(keys or key())
    if new_image is DEFAULT:
        new_image = None if event_name == "REMOVE" else {**keys, **(attributes or {})}
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": created_at,
        "Keys": keys,
        "SequenceNumber": str(sequence),
        "StreamViewType": view_type,
    }
    size = item_size_bytes(keys)
    for name, image in (("NewImage", new_image), ("OldImage", old_image)):
        if image is not None:
            body[name] = dict(image)
            size += item_size_bytes(image)
    body["SizeBytes"] = size
    record: dict[str, Any] = {
        "eventID": str(sequence),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
    }
    if ttl_delete:
        record["userIdentity"] = {"Type": "Service", "PrincipalId": TTL_PRINCIPAL}
    return record


def record(
    sequence: int | str, event_name: str = "MODIFY", *, stream_arn: str = STREAM_ARN, **fields: Any
) -> dict[str, Any]:
    """One record as Lambda delivers it (the fields are :func:`raw_record`'s)."""
    return lambda_record(raw_record(sequence, event_name, **fields), stream_arn=stream_arn)


def event_of(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A Lambda invocation event holding ``records`` (already in Lambda's shape)."""
    return {"Records": list(records)}


def mark_ttl_delete(lambda_shaped: dict[str, Any]) -> dict[str, Any]:
    """A REMOVE read from moto's stream, marked as DynamoDB's TTL process makes it (moto cannot)."""
    lambda_shaped["userIdentity"] = {"type": "Service", "principalId": TTL_PRINCIPAL}
    return lambda_shaped


# Records that fail validation, each in its own way (the message names the problem).
_MALFORMATIONS: tuple[Callable[[dict[str, Any]], None], ...] = (
    lambda r: r["dynamodb"].update(Keys={"user_id": {"X": "?"}}),  # unknown type tag
    lambda r: r.update(eventName="UPSERT"),  # unknown event name
    lambda r: r["dynamodb"].update(Keys={}),  # no key
    lambda r: r["dynamodb"]["NewImage"].update(b={"B": "%%"}),  # binary that is not base64
)


def malformed_records(stream_arn: str, first_sequence: int, count: int) -> list[dict[str, Any]]:
    """``count`` Lambda records that fail validation in different ways, each with a sequence number."""
    out = []
    for i in range(count):
        shaped = record(first_sequence + i, "MODIFY", keys=key("u"), stream_arn=stream_arn)
        _MALFORMATIONS[i % len(_MALFORMATIONS)](shaped)
        out.append(shaped)
    return out
