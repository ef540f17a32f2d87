"""Pairing the items of two scans by key, holding only those whose other side has not come yet. Pure.

What makes two items "the same" is :mod:`replicator.core.compare`, shared with repair and the
export check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ddbstream import key_id
from replicator.core.compare import Difference, Kind, Origin, Summary


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
