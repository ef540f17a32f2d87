"""Where a record belongs among virtual shards: a stable hash of its partition key (pure).

DynamoDB stores an item in a partition chosen by a hash of its partition key, and the item's
changes appear in that partition's stream shard, in order. moto's stream has a single shard, so the
local runtime splits it the same way: a record's *position* is a 128-bit number computed from its
partition key, and each virtual shard owns a range of positions.

The position is :func:`ddbstream.key_hash` (SHA-256 of :func:`ddbstream.key_id`, the key's
canonical JSON with type tags, first 128 bits) of the partition key alone, so every change of a key,
and every item of a partition key, lands in the same virtual shard, run after run, in any process.
Python's built-in ``hash()`` is salted per process and would not be.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ddbstream import Item, key_hash

HASH_SPACE = 1 << 128
"""Positions are in ``[0, HASH_SPACE)``: the 32 hexadecimal digits of ``key_hash``."""


def partition_keys(keys: Item, partition_key: str | None) -> Item:
    """The part of a record's ``Keys`` that chooses its shard.

    The partition key when it is named and present; otherwise the whole primary key (still one
    position per item, so each item's changes stay in order, but a partition key's items may spread).
    """
    if partition_key is not None and partition_key in keys:
        return {partition_key: keys[partition_key]}
    return keys


def key_position(keys: Item, partition_key: str | None = None) -> int:
    """The record's position in the hash space: the same key always gives the same number."""
    return int(key_hash(partition_keys(keys, partition_key)), 16)


def record_position(event: Mapping[str, Any], partition_key: str | None = None) -> int:
    """:func:`key_position` of a record in Lambda's event form (a record without keys: position 0)."""
    keys = event.get("dynamodb", {}).get("Keys")
    return key_position(keys, partition_key) if isinstance(keys, Mapping) and keys else 0
