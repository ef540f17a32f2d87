"""What makes a source item and a replica item "the same", and pairing two scans by key. Pure.

Two items agree when the replica holds exactly what the replicator would write for the source item
(:class:`replicator.core.view.ItemView`: excluded and ``aws:rep:*`` attributes removed), ignoring
the replicator's version attribute and any attribute the operator asked to ignore. Values are
compared by DynamoDB's equality (:mod:`ddbstream.values`: set members in any order, numbers by value).

An item whose TTL has passed but that DynamoDB has not deleted yet is never a difference,
whichever side holds it: the source's TTL delete is on its way (or, with ``TTL_DELETES=skip``, the
replica keeps it on purpose).
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ddbstream import AttributeValue, Item, key_hash, key_id, primary_key
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


@dataclass(slots=True)
class MatchStats:
    source_items: int = 0
    replica_items: int = 0
    matched: int = 0
    expired: int = 0


@dataclass(slots=True)
class Matcher:
    """Pairs items from the two scans by key; holds only items whose other side has not come yet.

    Scans of two tables with the same key schema return keys in much the same order, so what is
    held stays close to the real differences plus the items the two scans are apart.
    """

    pending: dict[str, Summary] = field(default_factory=dict)
    mismatched: list[Difference] = field(default_factory=list)
    stats: MatchStats = field(default_factory=MatchStats)

    def offer(self, summary: Summary) -> None:
        if summary.origin is Origin.SOURCE:
            self.stats.source_items += 1
        else:
            self.stats.replica_items += 1
        identity = key_id(summary.keys)
        other = self.pending.get(identity)
        if other is None or other.origin is summary.origin:
            self.pending[identity] = summary
            return
        del self.pending[identity]
        if summary.expired or other.expired:
            self.stats.expired += 1
            return
        source, replica = (summary, other) if summary.origin is Origin.SOURCE else (other, summary)
        if source.digest is None:
            self.mismatched.append(Difference(Kind.UNREPLICABLE, source.keys))
        elif source.digest != replica.digest:
            self.mismatched.append(Difference(Kind.DIFFERENT, source.keys))
        else:
            self.stats.matched += 1

    def candidates(self) -> list[Difference]:
        """Every key that looked different once both scans ended; to be confirmed by fresh reads."""
        found = list(self.mismatched)
        for summary in self.pending.values():
            if summary.expired:
                self.stats.expired += 1
            elif summary.origin is Origin.REPLICA:
                found.append(Difference(Kind.EXTRA, summary.keys))
            elif summary.digest is None:
                found.append(Difference(Kind.UNREPLICABLE, summary.keys))
            else:
                found.append(Difference(Kind.MISSING, summary.keys))
        self.pending.clear()
        self.mismatched.clear()
        return found


def count_by_kind(differences: Iterable[Difference]) -> dict[str, int]:
    counts = {kind.value: 0 for kind in Kind}
    for difference in differences:
        counts[difference.kind.value] += 1
    return counts
