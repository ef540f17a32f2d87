"""The typed view of one DynamoDB stream record, as Lambda delivers it.

Lambda's event JSON is parsed and validated once, here. Everything after works with
:class:`StreamRecord`, a frozen value whose fields are known to be well formed.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ddbstream.attributes import Item, item_from_event, key_hash, key_id
from ddbstream.errors import MalformedRecord
from ddbstream.names import table_name_from_arn

TTL_PRINCIPAL = "dynamodb.amazonaws.com"


class EventName(enum.StrEnum):
    """The three kinds of change a DynamoDB stream reports."""

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One validated stream record. Images are in boto3 client form (see ``ddbstream.attributes``)."""

    event_name: EventName
    sequence_number: str
    """Exactly as received: Lambda matches ``batchItemFailures`` identifiers against this text."""
    sequence: int
    """The sequence number as an integer; stream sequence numbers are compared numerically."""
    keys: Item
    key_id: str
    key_hash: str
    new_image: Item | None
    old_image: Item | None
    created_at: float | None
    """ApproximateCreationDateTime in epoch seconds (DynamoDB rounds it down to the second)."""
    size_bytes: int | None
    is_ttl_delete: bool
    """A REMOVE made by DynamoDB's Time to Live process rather than by a user."""
    event_source_arn: str | None
    aws_region: str | None

    @property
    def table_name(self) -> str | None:
        """The source table's name, from the stream ARN (``arn:...:table/NAME/stream/LABEL``)."""
        return table_name_from_arn(self.event_source_arn)

    @property
    def is_removal(self) -> bool:
        return self.event_name is EventName.REMOVE

    def require_new_image(self) -> Item:
        """The new image of an INSERT/MODIFY, or a MalformedRecord naming the stream's view type."""
        if self.new_image is None:
            raise MalformedRecord(
                f"{self.event_name} record has no NewImage; the stream view type must be "
                "NEW_IMAGE or NEW_AND_OLD_IMAGES (KEYS_ONLY and OLD_IMAGE cannot be replicated)",
                sequence_number=self.sequence_number,
            )
        return self.new_image


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A record that failed validation, with its position and sequence number when it had one."""

    index: int
    sequence_number: str | None
    error: MalformedRecord


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """A Lambda stream event split into valid records and rejected ones, in delivery order."""

    records: tuple[StreamRecord, ...]
    rejected: tuple[RejectedRecord, ...]


def _sequence_text(raw: object) -> str | None:
    return raw if isinstance(raw, str) and raw else None


def _is_ttl_delete(raw: Mapping[str, Any]) -> bool:
    identity = raw.get("userIdentity")
    return (
        isinstance(identity, Mapping)
        and identity.get("type") == "Service"
        and identity.get("principalId") == TTL_PRINCIPAL
    )


def _creation_time(raw: object, seq: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise MalformedRecord("ApproximateCreationDateTime must be epoch seconds", sequence_number=seq)
    return float(raw)


def _optional_image(body: Mapping[str, Any], name: str) -> Item | None:
    raw = body.get(name)
    return None if raw is None else item_from_event(raw, name)


def parse_record(raw: object) -> StreamRecord:
    """Validate one record of a Lambda DynamoDB stream event.

    Raises :class:`MalformedRecord` with the reason (never a value) when the record is unusable:
    not an object, an unknown event name, missing or empty keys, a non-numeric sequence number,
    or an AttributeValue that breaks DynamoDB's type rules.
    """
    if not isinstance(raw, Mapping):
        raise MalformedRecord("record is not an object")
    body = raw.get("dynamodb")
    seq_raw = body.get("SequenceNumber") if isinstance(body, Mapping) else None
    seq = _sequence_text(seq_raw)
    if not isinstance(body, Mapping):
        raise MalformedRecord("record has no 'dynamodb' object")
    if seq is None:
        raise MalformedRecord("record has no SequenceNumber")
    if not seq.isascii() or not seq.isdigit():
        raise MalformedRecord("SequenceNumber is not a decimal number", sequence_number=seq)
    try:
        event_name = EventName(str(raw.get("eventName")))
    except ValueError:
        raise MalformedRecord(
            "unknown eventName (expected INSERT, MODIFY or REMOVE)", sequence_number=seq
        ) from None
    try:
        keys = item_from_event(body.get("Keys"), "Keys")
        new_image = _optional_image(body, "NewImage")
        old_image = _optional_image(body, "OldImage")
    except MalformedRecord as exc:
        raise MalformedRecord(exc.reason, sequence_number=seq) from exc
    if not keys:
        raise MalformedRecord("record has no Keys", sequence_number=seq)
    size = body.get("SizeBytes")
    arn = raw.get("eventSourceARN")
    region = raw.get("awsRegion")
    return StreamRecord(
        event_name=event_name,
        sequence_number=seq,
        sequence=int(seq),
        keys=keys,
        key_id=key_id(keys),
        key_hash=key_hash(keys),
        new_image=new_image,
        old_image=old_image,
        created_at=_creation_time(body.get("ApproximateCreationDateTime"), seq),
        size_bytes=size if isinstance(size, int) and not isinstance(size, bool) else None,
        is_ttl_delete=event_name is EventName.REMOVE and _is_ttl_delete(raw),
        event_source_arn=arn if isinstance(arn, str) else None,
        aws_region=region if isinstance(region, str) else None,
    )


def source_table(event: Mapping[str, Any], batch: ParsedBatch) -> str | None:
    """The source table of a batch: an event source mapping reads exactly one table's stream.

    Taken from a valid record, else from any raw record's (or a tumbling-window event's)
    ``eventSourceARN``, so a batch of malformed records is still attributed to its table.
    """
    for record in batch.records:
        if record.table_name:
            return record.table_name
    raw_records = event.get("Records")
    arns = [event.get("eventSourceARN")]
    if isinstance(raw_records, list):
        arns += [raw.get("eventSourceARN") for raw in raw_records if isinstance(raw, Mapping)]
    return next((table for table in map(table_name_from_arn, arns) if table), None)


def parse_event(event: object) -> ParsedBatch:
    """Parse every record of a Lambda event; bad records are collected, never raised."""
    raw_records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(raw_records, list):
        raise MalformedRecord("event has no 'Records' list: is this a DynamoDB stream event?")
    records: list[StreamRecord] = []
    rejected: list[RejectedRecord] = []
    for index, raw in enumerate(raw_records):
        try:
            records.append(parse_record(raw))
        except MalformedRecord as exc:
            rejected.append(RejectedRecord(index=index, sequence_number=exc.sequence_number, error=exc))
    return ParsedBatch(records=tuple(records), rejected=tuple(rejected))
