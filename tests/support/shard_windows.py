"""Tumbling windows on several shards, driven by hand: a stand-in for the local runner's virtual shards.

moto's stream has one shard. Until the local event source mapping runs N virtual shards (issue 14,
part 1, branch ``usage-shards``), multi-shard tests take records read from moto's stream, partition
them by a hash of the partition key (as DynamoDB assigns keys to shards) and hand each shard's
records to the consumer's handler in tumbling-window invocations shaped as Lambda sends them
(``shardId``, ``window``, ``state``, ``isFinalInvokeForWindow``, ``isWindowTerminatedEarly``),
batch by batch, the state of each invocation passed to the next, then a final invoke. Once the
virtual shards exist, the tests using this module should run on them instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from tests.support.usage import windowed

SHARDS = 4
PARTITION_KEY = "user_id"

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
"""A handler call: event in, JSON response out (``tests.support.consumer.Run`` is one)."""


def shard_id(number: int) -> str:
    return f"shardId-{number:020d}-virtual"


def shard_of(record: dict[str, Any], shards: int = SHARDS) -> str:
    """The shard a record's partition key hashes to."""
    value = json.dumps(record["dynamodb"]["Keys"][PARTITION_KEY], sort_keys=True).encode()
    return shard_id(int.from_bytes(hashlib.md5(value, usedforsecurity=False).digest()[:4], "big") % shards)


def by_shard(records: Iterable[dict[str, Any]], shards: int = SHARDS) -> dict[str, list[dict[str, Any]]]:
    """Each shard's records, in stream order."""
    out: dict[str, list[dict[str, Any]]] = {shard_id(n): [] for n in range(shards)}
    for record in records:
        out[shard_of(record, shards)].append(record)
    return out


def run_window(
    invoke: Invoke, shard: str, start: str, records: list[dict[str, Any]], *, batch_size: int = 7
) -> dict[str, Any]:
    """One shard's window up to (not including) its final invoke; returns the state Lambda keeps."""
    state: dict[str, Any] = {}
    for first in range(0, len(records), batch_size):
        batch = {"Records": records[first : first + batch_size]}
        state = invoke(windowed(batch, start, state, shard_id=shard))["state"]
    return state


def close_window(
    invoke: Invoke, shard: str, start: str, state: dict[str, Any], *, early: bool = False
) -> dict[str, Any]:
    """The window's final invoke (no records), as Lambda makes it at the window's end or a split."""
    return invoke(windowed({"Records": []}, start, state, final=True, early=early, shard_id=shard))
