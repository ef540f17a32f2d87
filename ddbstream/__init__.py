"""Typed, validated views over DynamoDB stream records, shared by both stream consumers.

Nothing here performs I/O: records are parsed once at the Lambda boundary and the rest of the
code works with :class:`StreamRecord` values that cannot be malformed.
"""

from __future__ import annotations

from ddbstream.attributes import AttributeValue, Item, item_size_bytes, key_hash, key_id, primary_key
from ddbstream.errors import MalformedRecord
from ddbstream.names import table_name_from_arn
from ddbstream.records import (
    EventName,
    ParsedBatch,
    RejectedRecord,
    StreamRecord,
    parse_event,
    parse_record,
    source_table,
)

__all__ = [
    "AttributeValue",
    "EventName",
    "Item",
    "MalformedRecord",
    "ParsedBatch",
    "RejectedRecord",
    "StreamRecord",
    "item_size_bytes",
    "key_hash",
    "key_id",
    "parse_event",
    "parse_record",
    "primary_key",
    "source_table",
    "table_name_from_arn",
]
