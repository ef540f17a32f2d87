"""One rule for whether a replica item is what the replicator would have made of its source item. Pure.

Two items agree when the replica holds exactly what the replicator would write for the source item
(:class:`replicator.core.view.ItemView`: excluded and ``aws:rep:*`` attributes removed), ignoring
the replicator's version attribute and any attribute the operator asked to ignore. Values are
compared by DynamoDB's equality (:mod:`ddbstream.values`: set members in any order, numbers by value).

An item whose TTL has passed but that DynamoDB has not deleted yet is never a difference,
whichever side holds it: the source's TTL delete is on its way (or, with ``TTL_DELETES=skip``, the
replica keeps it on purpose).

Every comparison uses this module: the scan check (``replicator.cli.check``, items paired by
``replicator.cli.diff``), repair's re-read, and the export check's Spark job
(``jobs/export_compare.py``), which runs :func:`summarise` on its executors. It needs no AWS library.
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ddbstream import AttributeValue, Item, key_hash, primary_key
from ddbstream.attributes import item_from_event
from ddbstream.values import differing_attributes, fingerprint
from replicator.core.errors import MetadataCollision
from replicator.core.schema import VERSION_ATTRIBUTE
from replicator.core.view import ItemView


class Kind(enum.StrEnum):
    MISSING = "missing"  # in the source, not in the replica
    EXTRA = "extra"  # in the replica, not in the source
    DIFFERENT = "different"  # in both, with different contents
    UNREPLICABLE = "unreplicable"  # the source item holds the replicator's reserved attribute


class Origin(enum.Enum):
    SOURCE = "source"
    REPLICA = "replica"


class Agreement(enum.Enum):
    SAME = "same"
    EXPIRED = "expired"  # one side holds an item whose TTL has passed: not a difference


@dataclass(frozen=True, slots=True)
class Rules:
    """How items are compared: the key, what the replica never holds, what the operator ignores."""

    key_names: tuple[str, ...]
    excluded: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset()
    ttl_attribute: str | None = None

    @property
    def view(self) -> ItemView:
        return ItemView(self.excluded, self.ignored)


@dataclass(frozen=True, slots=True)
class Difference:
    """A key whose two sides disagree; ``attributes`` names (never values) what differs."""

    kind: Kind
    keys: Item
    attributes: tuple[str, ...] = ()

    @property
    def key_hash(self) -> str:
        return key_hash(self.keys)

    @classmethod
    def from_event(cls, kind: object, keys: object) -> Difference:
        """A difference as reports and the export job write it: a kind's name and a key in Lambda's
        event form (binary as base64). Raises ValueError (its message never quotes the key)."""
        if not isinstance(kind, str):
            raise ValueError("a difference's kind must be the name of one")
        return cls(Kind(kind), item_from_event(keys, "key"))


def expired(item: Item | None, rules: Rules, now: float) -> bool:
    """True when the item's TTL attribute is a number of epoch seconds in the past."""
    if item is None or rules.ttl_attribute is None:
        return False
    value = item.get(rules.ttl_attribute)
    if not isinstance(value, Mapping) or "N" not in value:
        return False  # DynamoDB's TTL ignores anything but a number
    try:
        return decimal.Decimal(value["N"]) < decimal.Decimal(now)
    except decimal.InvalidOperation:
        return False


def compare(
    keys: Item, source: Item | None, replica: Item | None, rules: Rules, now: float
) -> Difference | Agreement:
    """The verdict on one key from both sides' current items."""
    if expired(source, rules, now) or expired(replica, rules, now):
        return Agreement.EXPIRED
    if source is None:
        return Agreement.SAME if replica is None else Difference(Kind.EXTRA, keys)
    try:
        wanted = rules.view.of_source(source)
    except MetadataCollision:
        return Difference(Kind.UNREPLICABLE, keys, (VERSION_ATTRIBUTE,))
    if replica is None:
        return Difference(Kind.MISSING, keys)
    held = rules.view.of_replica(replica)
    changed = differing_attributes(wanted, held)
    return Difference(Kind.DIFFERENT, keys, changed) if changed else Agreement.SAME


@dataclass(frozen=True, slots=True)
class Summary:
    """What is kept of a scanned item until its other side turns up: keys and a digest."""

    origin: Origin
    keys: dict[str, AttributeValue]
    digest: bytes | None  # None: a source item the replicator cannot copy
    expired: bool


def summarise(origin: Origin, item: Item, rules: Rules, now: float) -> Summary:
    keys = primary_key(item, rules.key_names)
    if origin is Origin.REPLICA:
        return Summary(origin, keys, fingerprint(rules.view.of_replica(item)), expired(item, rules, now))
    try:
        digest: bytes | None = fingerprint(rules.view.of_source(item))
    except MetadataCollision:
        digest = None
    return Summary(origin, keys, digest, expired(item, rules, now))


def count_by_kind(differences: Iterable[Difference]) -> dict[str, int]:
    counts = {kind.value: 0 for kind in Kind}
    for difference in differences:
        counts[difference.kind.value] += 1
    return counts
