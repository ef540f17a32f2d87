"""Poison records for the fault-injection suite and ``make soak``: records the replicator can never
write as they are, mixed into good ones.

Two of them are real data, written to the source table as they are:

* ``oversize``: an item that fits DynamoDB's 400 KB in the source but not with the replicator's
  ``repl:version`` attribute added (``ItemTooLarge``);
* ``metadata-collision``: an item with an attribute named ``repl:version`` (``MetadataCollision``).

Three are broken *as delivered*, which moto's stream cannot produce: the item is written normally
with a ``poison`` marker attribute, and :func:`annotate` (the event source mapping's hook on each
record read from the stream) breaks its record before the replicator sees it:

* ``key-type``: the partition key arrives as a number, which the replica's schema refuses
  (``KeySchemaMismatch``);
* ``malformed``: an event name that is not INSERT, MODIFY or REMOVE (``MalformedInput``);
* ``keys-only``: no images, as from a ``KEYS_ONLY`` stream (``MalformedInput``).

``redrive`` reads the stream again without the hook, so those three are good records to it; the
two real ones stay poison and are reported.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from deployconfig.config import DeploymentConfig
from replicator.core.schema import VERSION_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MARKER = "poison"


class Poison(enum.StrEnum):
    OVERSIZE = "oversize"
    METADATA = "metadata-collision"
    KEY_TYPE = "key-type"
    MALFORMED = "malformed"
    KEYS_ONLY = "keys-only"


ERROR_CLASS = {
    Poison.OVERSIZE: "ItemTooLarge",
    Poison.METADATA: "MetadataCollision",
    Poison.KEY_TYPE: "KeySchemaMismatch",
    Poison.MALFORMED: "MalformedInput",
    Poison.KEYS_ONLY: "MalformedInput",
}
"""The error class the replicator reports for each kind."""

STAYS_POISON = frozenset({Poison.OVERSIZE, Poison.METADATA})
"""Kinds that are poison in the source itself, so a redrive fails them again."""


def poison_key(cfg: DeploymentConfig, kind: Poison, number: int = 0) -> dict[str, Any]:
    key: dict[str, Any] = {cfg.partition_key.name: {"S": f"poison-{kind.value}-{number}"}}
    if cfg.sort_key is not None:
        key[cfg.sort_key.name] = {"N": str(number)}
    return key


def poison_item(
    cfg: DeploymentConfig,
    kind: Poison,
    number: int = 0,
    *,
    oversize_chars: int = 0,
    data_prefix: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The source item of one poison record (``oversize_chars`` from :func:`largest_string`; an
    oversize item's ``data`` starts with ``data_prefix``)."""
    item = {**poison_key(cfg, kind, number), MARKER: {"S": kind.value}, **(extra or {})}
    if kind is Poison.OVERSIZE:
        item["data"] = {"S": (data_prefix + "x" * oversize_chars)[:oversize_chars]}
    elif kind is Poison.METADATA:
        item[VERSION_ATTRIBUTE] = {"S": "set by the application"}
    return item


def largest_string(
    client: DynamoDBClient,
    cfg: DeploymentConfig,
    scratch_table: str,
    *,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """The longest ``data`` string an oversize poison item (with ``extra`` attributes) can hold in
    the source: a binary search on a scratch table with the source's key schema, so the probes leave
    nothing in the stream. Probed with the longest key :func:`poison_key` makes in practice, so
    every poison item of that size fits the source; ``repl:version`` adds 52 bytes, too many."""
    keys = [{"AttributeName": cfg.partition_key.name, "KeyType": "HASH"}]
    attrs = [{"AttributeName": cfg.partition_key.name, "AttributeType": cfg.partition_key.type}]
    if cfg.sort_key is not None:
        keys.append({"AttributeName": cfg.sort_key.name, "KeyType": "RANGE"})
        attrs.append({"AttributeName": cfg.sort_key.name, "AttributeType": cfg.sort_key.type})
    client.create_table(
        TableName=scratch_table,
        KeySchema=keys,  # type: ignore[arg-type]
        AttributeDefinitions=attrs,  # type: ignore[arg-type]
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        low, high = 1, 420_000
        while low < high:
            mid = (low + high + 1) // 2
            try:
                item = poison_item(cfg, Poison.OVERSIZE, 999_999, oversize_chars=mid, extra=extra)
                client.put_item(TableName=scratch_table, Item=item)
                low = mid
            except ClientError:
                high = mid - 1
        return low
    finally:
        client.delete_table(TableName=scratch_table)


def _kind(raw: Mapping[str, Any]) -> Poison | None:
    image = raw.get("dynamodb", {}).get("NewImage") or {}
    marker = image.get(MARKER, {}).get("S")
    try:
        return Poison(marker) if marker else None
    except ValueError:
        return None


def annotate(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event source mapping hook: break the records of the kinds broken as delivered."""
    kind = _kind(raw)
    if kind not in (Poison.KEY_TYPE, Poison.MALFORMED, Poison.KEYS_ONLY):
        return raw
    record = copy.deepcopy(dict(raw))
    body = record["dynamodb"]
    if kind is Poison.KEY_TYPE:
        # the text key made by poison_key() becomes a number: the replica's schema wants text
        name = next(n for n, v in body["Keys"].items() if str(v.get("S", "")).startswith("poison-"))
        for image in ("Keys", "NewImage"):
            body[image][name] = {"N": "42"}
    elif kind is Poison.MALFORMED:
        record["eventName"] = "UPSERT"
    else:
        body.pop("NewImage", None)
        body.pop("OldImage", None)
        body["StreamViewType"] = "KEYS_ONLY"
    return record
