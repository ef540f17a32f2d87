"""Hundreds of shards at once against DynamoDB's per-item limit: is the replicator's state a hot key?

256 simulated shards each run their own replicator (their own execution environment, so their
own :class:`~replicator.adapters.writer.ReplicaWriter` and its own randomly chosen mark bucket)
on batches of distinct keys, back to back, against :class:`bench.throttle.ThrottlingBackend`: no
latency, but no item takes more than 1,000 writes in a second. The same run does it twice: with
the mark spread over ``WATERMARK_BUCKETS`` items (the current design) and with one mark item
(``watermark_buckets=1``, the design before).

Time is simulated, so the figures do not depend on this machine's speed: an invocation takes
:data:`INVOCATION_SECONDS` (Lambda's invoke and our handling of a batch, with zero network time)
plus whatever its retries sleep in backoff. Invocations run one at a time in order of their start;
each one's requests carry its start time plus what its thread has slept. A retry can thus be
counted in a window before requests of other shards that start earlier but are simulated later;
the windows are fixed (one second each), so what each window admits is still capped at the limit.
The replicator runs as in Lambda otherwise: ``plan_batch`` and ``apply_plan`` with the deadline of
the deployment's timeout on the simulated clock, and a batch that fails is delivered again.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

from bench import hotkey
from bench.throttle import ITEM_WRITES_PER_SECOND, ItemWindows, ThrottlingBackend
from ddbstream import parse_event
from ddbstream.lambda_event import lambda_record
from deployconfig.config import load as load_config
from replicator.adapters.apply import Executor, apply_plan
from replicator.adapters.clients import CONNECT_TIMEOUT, READ_TIMEOUT
from replicator.adapters.retry import Backoff, Deadline
from replicator.adapters.writer import ReplicaWriter
from replicator.core.plan import plan_batch
from replicator.core.policy import Policy
from replicator.core.protocol import ReplicaTables
from replicator.core.report import summarise
from replicator.core.schema import DEFAULT_TOMBSTONE_RETENTION_HOURS, WATERMARK_BUCKETS
from replicator.handler import REPORTING_RESERVE_SECONDS
from replicator.settings import Settings

SHARDS: Final = 256
INVOCATION_SECONDS: Final = 0.1
"""Simulated time of one invocation with zero network time: at most 10 invocations per shard per
second. (Handling a batch of 100 records against a zero-latency backend takes about 20 ms of CPU
here; Lambda's invoke and the poller's GetRecords add to it.)"""
SOURCE_TABLE: Final = "Users"
STATE_TABLE: Final = "Users-replication-state"
STREAM_ARN: Final = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"


class InvocationClock:
    """Simulated time inside the invocation being run: its start plus what the calling thread slept.

    ``apply_plan`` runs a batch's writes on a thread pool; each thread's retries sleep on their own,
    so each thread has its own time. The invocation ends after its longest sleeper.
    """

    def __init__(self) -> None:
        self._start = 0.0
        self._local = threading.local()
        self._lock = threading.Lock()
        self.longest = 0.0

    def begin(self, start: float) -> None:
        self._start = start
        self._local = threading.local()
        self.longest = 0.0

    def now(self) -> float:
        return self._start + getattr(self._local, "slept", 0.0)

    def sleep(self, seconds: float) -> None:
        slept = getattr(self._local, "slept", 0.0) + seconds
        self._local.slept = slept
        with self._lock:
            self.longest = max(self.longest, slept)


def _record(shard: int, number: int) -> dict[str, Any]:
    """One MODIFY record of shard ``shard``'s ``number``-th key, in Lambda's shape."""
    key = {"user_id": {"S": f"s{shard:04d}-{number:08d}"}, "timestamp": {"N": "1700000000"}}
    image = {**key, "plan": {"S": "pro"}}
    raw = {
        "eventID": f"{shard}-{number}",
        "eventName": "MODIFY",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_700_000_000,
            "Keys": key,
            "NewImage": image,
            "OldImage": image,
            "SequenceNumber": str(10**20 + shard * 10**12 + number),
            "SizeBytes": 60,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    return lambda_record(raw, stream_arn=STREAM_ARN)


@dataclass
class _Shard:
    index: int
    writer: ReplicaWriter
    executor: Executor
    next_key: int = 0
    redeliver: dict[str, Any] | None = None

    def batch(self, size: int) -> dict[str, Any]:
        if self.redeliver is not None:
            return self.redeliver
        first, self.next_key = self.next_key, self.next_key + size
        return {"Records": [_record(self.index, n) for n in range(first, first + size)]}


@dataclass
class _Tally:
    """Throughput: the invocations that ended within the horizon; time: every invocation started."""

    horizon: float
    invocations: int = 0
    failed: int = 0
    records: int = 0
    seconds: float = 0.0
    longest: float = 0.0
    cpu_seconds: float = 0.0
    runs: int = 0
    """Every invocation simulated, also those still running at the horizon."""

    def count(self, seconds: float, *, failed: bool, records: int, ended_in_time: bool) -> None:
        self.runs += 1
        self.seconds += seconds
        self.longest = max(self.longest, seconds)
        if ended_in_time:  # one still running at the horizon has not delivered yet
            self.invocations += 1
            self.failed += failed
            self.records += 0 if failed else records


def simulate(
    buckets: int,
    *,
    shards: int,
    batch_size: int,
    horizon: float,
    seed: int,
    item_limit: int = ITEM_WRITES_PER_SECOND,
) -> dict[str, Any]:
    """Start invocations on ``shards`` shards for ``horizon`` simulated seconds; one design's figures."""
    cfg = load_config()
    clock = InvocationClock()
    backend = ThrottlingBackend(
        {SOURCE_TABLE: ("user_id", "timestamp"), STATE_TABLE: ("pk",)}, clock.now, ItemWindows(item_limit)
    )
    tables = ReplicaTables(
        SOURCE_TABLE, STATE_TABLE, DEFAULT_TOMBSTONE_RETENTION_HOURS * 3600, watermark_buckets=buckets
    )
    workers = Settings(replica_table="t", replica_region="r", state_table="s").max_concurrent_writes
    rng = random.Random(seed)

    def executor(shard_rng: random.Random) -> Executor:
        return Executor(
            max_workers=workers,
            min_attempt_seconds=CONNECT_TIMEOUT + READ_TIMEOUT,
            backoff_factory=lambda: Backoff(rng=shard_rng),
            sleep=clock.sleep,
            wall_clock=clock.now,
        )

    fleet = [
        _Shard(i, ReplicaWriter(backend, tables), executor(random.Random(rng.random())))  # type: ignore[arg-type]
        for i in range(shards)
    ]
    queue = [(rng.uniform(0, INVOCATION_SECONDS), shard.index) for shard in fleet]
    heapq.heapify(queue)
    tally = _Tally(horizon)
    while queue:
        start, index = heapq.heappop(queue)
        if start >= horizon:
            continue
        shard = fleet[index]
        event = shard.batch(batch_size)
        clock.begin(start)
        began = time.process_time()
        plan = plan_batch(parse_event(event), Policy())
        deadline = Deadline(
            start + cfg.replicator_timeout_seconds - REPORTING_RESERVE_SECONDS, clock=clock.now
        )
        applied = apply_plan(
            plan, shard.writer, source_table=SOURCE_TABLE, deadline=deadline, executor=shard.executor
        )
        failed = bool(summarise(plan, applied).batch_item_failures())
        tally.cpu_seconds += time.process_time() - began
        shard.redeliver = event if failed else None
        end = start + INVOCATION_SECONDS + clock.longest
        tally.count(end - start, failed=failed, records=len(event["Records"]), ended_in_time=end <= horizon)
        heapq.heappush(queue, (end, index))
    return _figures(backend, fleet, tally, buckets=buckets)


def _figures(
    backend: ThrottlingBackend, fleet: list[_Shard], tally: _Tally, *, buckets: int
) -> dict[str, Any]:
    """Rates over the horizon; state writes and throttles in the one-second windows before it."""
    windows = math.ceil(tally.horizon)

    def state(counts: Counter[tuple[str, int]]) -> Counter[str]:
        return Counter(
            {
                item: n
                for (item, window), n in counts.items()
                if item.startswith(f"{STATE_TABLE}|") and window < windows
            }
        )

    marks, refused = state(backend.writes), state(backend.throttles)
    written, throttled = sum(marks.values()), sum(refused.values())
    data_throttled = sum(n for (item, _), n in backend.throttles.items() if not item.startswith(STATE_TABLE))
    return {
        "buckets": buckets,
        "buckets_used": len({shard.writer.bucket for shard in fleet}),
        "invocations": tally.invocations,
        "invocations_per_s": round(tally.invocations / tally.horizon, 1),
        "records_per_s": round(tally.records / tally.horizon),
        "mean_invocation_ms": round(tally.seconds / max(1, tally.runs) * 1000, 1),
        "longest_invocation_s": round(tally.longest, 2),
        "failed_batches": tally.failed,
        "state_writes": written,
        "state_throttled": throttled,
        "state_throttled_share": round(throttled / (written + throttled), 3) if written + throttled else 0.0,
        "data_throttled": data_throttled,
        "busiest_state_share": round(max(marks.values()) / written, 3) if written else 0.0,
        "cpu_ms_per_invocation": round(tally.cpu_seconds / max(1, tally.runs) * 1000, 1),
    }


def run(quick: bool) -> dict[str, Any]:
    batch_size, horizon, trials = (10, 0.3, 200) if quick else (100, 1.0, 2000)
    designs = {
        "buckets": simulate(WATERMARK_BUCKETS, shards=SHARDS, batch_size=batch_size, horizon=horizon, seed=5),
        "single": simulate(1, shards=SHARDS, batch_size=batch_size, horizon=horizon, seed=5),
    }
    return {
        "shards": SHARDS,
        "batch_size": batch_size,
        "horizon_s": horizon,
        "invocation_s": INVOCATION_SECONDS,
        "item_limit": ITEM_WRITES_PER_SECOND,
        "designs": designs,
        "at_128": hotkey.share_at(128, WATERMARK_BUCKETS, trials=trials),
        "at_1000": hotkey.load_at(1000, 4.0, WATERMARK_BUCKETS, trials=max(50, trials // 10)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short simulation (a smoke test)")
    args = parser.parse_args()
    print(json.dumps(run(args.quick), indent=2))


if __name__ == "__main__":
    main()
