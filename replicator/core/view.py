"""What of an item the replica holds: one rule for the replicator, the check, repair, backfill and
any later comparison (a Spark job over exports imports this module; it needs no AWS library).

- The replicator writes a source item's *replicated view*: every attribute except the excluded
  ones (``EXCLUDE_ATTRIBUTES``) and those of legacy global tables (``aws:rep:*``), and adds its own
  :data:`~replicator.core.schema.VERSION_ATTRIBUTE`. A source item that already has an attribute
  of that name cannot be replicated (:class:`~replicator.core.errors.MetadataCollision`).
- A comparison sets :meth:`ItemView.of_source` against :meth:`ItemView.of_replica`: the replica
  item less that version attribute, and both sides less the excluded, legacy and *ignored*
  attributes (those the operator asked a check not to compare). Excluded attributes are dropped
  from the replica side too: a replica written before an attribute was excluded still agrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass

from ddbstream import AttributeValue, Item
from replicator.core.errors import MetadataCollision
from replicator.core.schema import LEGACY_GLOBAL_TABLE_PREFIX, VERSION_ATTRIBUTE


def is_replicated(name: str, excluded: Set[str]) -> bool:
    """Whether the replica holds a source attribute of this name."""
    return name not in excluded and not name.startswith(LEGACY_GLOBAL_TABLE_PREFIX)


def never_replicated(names: Iterable[str]) -> list[str]:
    """Those of ``names`` that no setting may exclude: the version attribute and ``aws:rep:*``
    attributes are never copied anyway, so naming them is a mistake worth refusing."""
    return [
        name for name in names if name == VERSION_ATTRIBUTE or name.startswith(LEGACY_GLOBAL_TABLE_PREFIX)
    ]


def replicated_view(item: Item, excluded: Set[str] = frozenset()) -> dict[str, AttributeValue]:
    """What the replicator writes for a source item (before adding its version). Raises MetadataCollision."""
    if VERSION_ATTRIBUTE in item:
        raise MetadataCollision(
            f"the source item has an attribute named {VERSION_ATTRIBUTE!r}, reserved for the replicator"
        )
    return {name: value for name, value in item.items() if is_replicated(name, excluded)}


@dataclass(frozen=True, slots=True)
class ItemView:
    """What two items are compared on: the replicated attributes, less those the operator ignores."""

    excluded: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset()

    def _compared(self, name: str) -> bool:
        return name not in self.ignored and is_replicated(name, self.excluded)

    def of_source(self, item: Item) -> dict[str, AttributeValue]:
        """What the replica must hold for a source item, as compared. Raises MetadataCollision."""
        return {
            name: value
            for name, value in replicated_view(item, self.excluded).items()
            if name not in self.ignored
        }

    def of_replica(self, item: Item) -> dict[str, AttributeValue]:
        """What a replica item holds of its source, as compared: its version attribute left out."""
        return {
            name: value for name, value in item.items() if name != VERSION_ATTRIBUTE and self._compared(name)
        }
