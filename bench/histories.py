"""Generated change histories of the article's ``Users`` table, for the cost benchmark. Pure, seeded.

A row is one (user_id, timestamp) item of about 0.7 to 0.95 KB, so it stays under 1 KB with the
replicator's 52-byte version attribute. A history is cut into batches as Lambda delivers them;
each batch has exactly the mix's share of each change (largest remainder), in random order, and
touches every row at most once, so no change is coalesced away inside a batch (the figures are
per change, not flattered by coalescing). MODIFY and REMOVE pick rows that already exist.
"""

from __future__ import annotations

import enum
import math
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ddbstream import item_size_bytes

ITEM_BYTES: Final = (700, 960)
"""Item sizes by DynamoDB's rule, before the replicator adds ``repl:version`` (52 bytes)."""
FIRST_TIMESTAMP: Final = 1_700_000_000
ROWS_PER_USER: Final = 4
LONG_TTL_SECONDS: Final = 30 * 86_400


class Change(enum.StrEnum):
    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"
    EXPIRE = "TTL delete"
    """A REMOVE made by DynamoDB's TTL process."""

    @property
    def event_name(self) -> str:
        """The stream record's eventName."""
        return "REMOVE" if self is Change.EXPIRE else self.value


@dataclass(frozen=True, slots=True)
class Mix:
    """Shares of each change in every batch (they add up to 1)."""

    name: str
    shares: Mapping[Change, float]

    def __post_init__(self) -> None:
        if not math.isclose(sum(self.shares.values()), 1.0):
            raise ValueError(f"the shares of {self.name} must add up to 1")

    def describe(self) -> str:
        return ", ".join(f"{share:.0%} {change.value}" for change, share in self.shares.items() if share)


APPEND_MOSTLY = Mix("append-mostly", {Change.INSERT: 0.85, Change.MODIFY: 0.10, Change.REMOVE: 0.05})
MODIFY_ONLY = Mix("MODIFY-only", {Change.MODIFY: 1.0})
DELETE_HEAVY = Mix("delete-heavy", {Change.INSERT: 0.40, Change.MODIFY: 0.10, Change.REMOVE: 0.50})
EXPIRING = Mix("expiring events", {Change.INSERT: 0.60, Change.MODIFY: 0.10, Change.EXPIRE: 0.30})
"""Events that expire: the history for the TTL_DELETES policies."""


def batch_counts(mix: Mix, size: int) -> dict[Change, int]:
    """How many of each change a batch of ``size`` holds: the shares, rounded by largest remainder."""
    exact = {change: share * size for change, share in mix.shares.items()}
    counts = {change: math.floor(value) for change, value in exact.items()}
    by_remainder = sorted(exact, key=lambda c: exact[c] - counts[c], reverse=True)
    for change in by_remainder[: size - sum(counts.values())]:
        counts[change] += 1
    return counts


def rows_to_seed(mix: Mix, batches: int, size: int) -> int:
    """Rows that must exist before the history, so every MODIFY and REMOVE finds a row to change."""
    counts = batch_counts(mix, size)
    touched = size - counts.get(Change.INSERT, 0)
    shrink = max(
        0, counts.get(Change.REMOVE, 0) + counts.get(Change.EXPIRE, 0) - counts.get(Change.INSERT, 0)
    )
    return touched + batches * shrink


@dataclass(frozen=True, slots=True)
class Step:
    """One change to the source table: the row's key, the item written (None: deleted), its size."""

    change: Change
    key: dict[str, Any]
    item: dict[str, Any] | None
    size: int
    """The size a replica must write: the new item's, or the deleted item's."""


class History:
    """Generates the changes of one mix, batch by batch, from a seed."""

    def __init__(self, mix: Mix, *, seed: int, ttl_attribute: str = "expires_at") -> None:
        self.mix = mix
        self._rng = random.Random(seed)
        self._ttl = ttl_attribute
        self._live: dict[int, int] = {}  # row -> stored size
        self._next_row = 0

    @property
    def live_rows(self) -> int:
        return len(self._live)

    def seed_rows(self, count: int) -> list[Step]:
        """``count`` INSERTs of new rows (the table's state before the measured history)."""
        return [self._insert() for _ in range(count)]

    def batch(self, size: int) -> list[Step]:
        """The next batch: the mix's counts, each row at most once, in random order."""
        counts = batch_counts(self.mix, size)
        touched = sum(n for change, n in counts.items() if change is not Change.INSERT)
        if touched > len(self._live):
            raise ValueError(f"{touched} rows to change but only {len(self._live)} exist: seed more rows")
        rows = self._rng.sample(sorted(self._live), touched)
        steps: list[Step] = []
        for change, count in counts.items():
            for _ in range(count):
                steps.append(self._insert() if change is Change.INSERT else self._change(change, rows.pop()))
        self._rng.shuffle(steps)
        return steps

    # -- rows -------------------------------------------------------------------------------------

    def _insert(self) -> Step:
        row = self._next_row
        self._next_row += 1
        return self._write(Change.INSERT, row)

    def _change(self, change: Change, row: int) -> Step:
        if change is Change.MODIFY:
            return self._write(change, row)
        size = self._live.pop(row)
        return Step(change, _key(row), None, size)

    def _write(self, change: Change, row: int) -> Step:
        item = self._item(row)
        size = item_size_bytes(item)
        self._live[row] = size
        return Step(change, _key(row), item, size)

    def _item(self, row: int) -> dict[str, Any]:
        rng = self._rng
        item: dict[str, Any] = {
            **_key(row),
            "plan": {"S": rng.choice(("free", "plus", "pro"))},
            "country": {"S": rng.choice(("US", "DE", "FR", "BR", "IN", "JP"))},
            "app_version": {"S": rng.choice(("4.2.0", "4.3.0", "5.0.0"))},
            "platform": {"S": rng.choice(("ios", "android", "web"))},
            "session_ms": {"N": str(rng.randrange(100, 3_600_000))},
            self._ttl: {"N": str(FIRST_TIMESTAMP + row + LONG_TTL_SECONDS)},
        }
        target = rng.randint(*ITEM_BYTES)
        padding = target - item_size_bytes(item) - len("payload")
        item["payload"] = {"S": "".join(rng.choices(string.ascii_letters, k=max(1, padding)))}
        return item


def _key(row: int) -> dict[str, Any]:
    return {
        "user_id": {"S": f"user-{row // ROWS_PER_USER:07d}"},
        "timestamp": {"N": str(FIRST_TIMESTAMP + row)},
    }
