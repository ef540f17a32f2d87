"""The usage-metrics consumer on the local event source mapping's virtual shards, as Lambda runs it.

Tests write to moto's table; the mapping reads its stream as four virtual shards with one-minute
tumbling windows (the deployed window) and invokes the consumer in one execution environment per
shard. A test can lose the answer of a final window invoke, or hold a shard's final invokes back.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from localrun.esm import EventSourceMapping, MappingSettings
from metrics.store import UsageStore
from tests.support.consumer import Run
from tests.support.esm import Clock
from tests.support.mapping import MappingFactory, drive
from tests.support.usage import SETTINGS


class AnswerLost(RuntimeError):
    """The invocation ran to the end, but its answer never reached the event source mapping."""


class Environments:
    """The consumer as Lambda runs it on a sharded stream: one execution environment per shard.

    ``lose_final_answer_of`` names a shard whose first final window invoke runs but whose answer is
    lost, so the mapping invokes it again; ``hold`` names shards whose final invokes fail until
    released (a shard running behind)."""

    def __init__(self, store: UsageStore) -> None:
        self.store = store
        self.runs: dict[str, Run] = {}
        self.finals: Counter[str] = Counter()
        self.lose_final_answer_of: str | None = None
        self.hold: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        shard = event["shardId"]
        final = bool(event.get("isFinalInvokeForWindow"))
        with self._lock:
            run = self.runs.setdefault(shard, Run(SETTINGS, store=self.store))
            if final and shard in self.hold:
                raise AnswerLost("held: this shard is behind")
        response = run(event)
        with self._lock:
            if final:
                self.finals[shard] += 1
                if shard == self.lose_final_answer_of:
                    self.lose_final_answer_of = None
                    raise AnswerLost("the final invoke's answer was lost")
        return response

    def text(self) -> str:
        return "".join(run.out.getvalue() for run in self.runs.values())


def sharded(make_mapping: MappingFactory, environments: Environments) -> EventSourceMapping:
    settings = MappingSettings(poll_interval_seconds=0, batch_size=7, tumbling_window_seconds=60)
    return make_mapping(environments, settings=settings, shards=4, partition_key="user_id", timeout=15)


def close_windows(mapping: EventSourceMapping, clock: Clock) -> None:
    """Move past every open window's end and let each shard make its final invoke."""
    clock.advance(120)
    drive(mapping, 10)
