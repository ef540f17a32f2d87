"""Repair: write the source's current state of each confirmed difference into the replica.

Each key goes through :mod:`replicator.adapters.reconcile`, the rule the replicator itself relies on:
read the high-water mark, then the replica's item and tombstone, then the source item (all
strongly consistent), and write at ``max(item version, tombstone version, mark)`` on condition
that the replica still holds what was read. So a repair

* cannot overwrite a newer replicated change: a change replicated after the replica was read
  fails the condition (CONFLICT) and the key is read again and retried, up to ``attempts`` times;
  a change replicated later carries a higher version and overwrites the repair, in stream order;
* cannot resurrect a deleted item: a missing source item is written as a delete with a tombstone,
  and an item deleted meanwhile fails the condition;
* cannot be undone by an older record delivered late: every record the replicator has seen is at
  or below the mark, and the repair's version is at least the mark.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from ddbstream import Item
from replicator.adapters.reconcile import Reconciler
from replicator.adapters.retry import Backoff
from replicator.cli.errors import CliError
from replicator.cli.parallel import check_stop, run_all
from replicator.cli.results import KeyRepair, Status
from replicator.cli.scan import Reader, persist
from replicator.core.compare import Agreement, Difference, Kind, Rules
from replicator.core.errors import MetadataCollision, ReplicatorError, RetryableError
from replicator.core.repair import RepairOutcome, repair_version
from replicator.core.view import replicated_view

T = TypeVar("T")


@dataclass
class Repairer:
    reconciler: Reconciler
    source: Reader
    rules: Rules
    source_table: str
    attempts: int = 5
    retry_seconds: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    backoff: Backoff = field(default_factory=lambda: Backoff(base=0.1, cap=10.0))

    def _retrying(self, attempt: Callable[[], T]) -> T:
        return persist(attempt, seconds=self.retry_seconds, backoff=self.backoff, sleep=self.sleep)

    def repair_key(self, difference: Difference) -> KeyRepair:
        keys: Item = difference.keys
        if difference.kind is Kind.UNREPLICABLE:
            return KeyRepair(difference, Status.UNREPLICABLE)
        try:
            for _ in range(self.attempts):
                mark = self._retrying(lambda: self.reconciler.read_watermark(self.source_table))
                observed = self._retrying(lambda: self.reconciler.read_state(keys))
                item = self.source.get(keys, consistent=True)
                view = None if item is None else replicated_view(item, self.rules.excluded)
                new_version = repair_version(observed, mark)
                outcome = self._retrying(
                    lambda: self.reconciler.write_current_state(keys, observed, view, new_version)  # noqa: B023
                )
                if outcome is not RepairOutcome.CONFLICT:
                    return KeyRepair(difference, Status.REPAIRED, outcome)
        except MetadataCollision:
            return KeyRepair(difference, Status.UNREPLICABLE)
        except RetryableError as exc:
            if not exc.retry_in_process:  # access denied or a missing table: every key would fail
                raise CliError(f"repair cannot write to the replica: {exc}") from None
            return KeyRepair(difference, Status.FAILED, error_class=type(exc).__name__)
        except ReplicatorError as exc:
            return KeyRepair(difference, Status.FAILED, error_class=type(exc).__name__)
        return KeyRepair(difference, Status.GAVE_UP)

    def repair_all(self, differences: list[Difference], *, workers: int) -> list[KeyRepair]:
        results: list[KeyRepair | None] = [None] * len(differences)

        def task_for(index: int) -> Callable[[threading.Event], None]:
            def task(stop: threading.Event) -> None:
                check_stop(stop)
                results[index] = self.repair_key(differences[index])

            return task

        run_all([task_for(i) for i in range(len(differences))], workers=workers, name="repair")
        return [r for r in results if r is not None]


def verified(repairs: list[KeyRepair], verdicts: list[Difference | Agreement]) -> list[KeyRepair]:
    """Mark repaired keys that still differed when read again (``verdicts``: one per repaired key, in order).

    A repair is checked because its version rests on stream order across shards (docs/design.md);
    a key still different after the grace period is reported, never assumed fixed.
    """
    still = iter(verdicts)
    return [
        replace(r, status=Status.STILL_DIFFERENT)
        if r.status is Status.REPAIRED and isinstance(next(still), Difference)
        else r
        for r in repairs
    ]
