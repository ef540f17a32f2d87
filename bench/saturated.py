"""A saturated shard far away: does the replicator keep up with 1,000 records/s at 75 and 200 ms?

A simulated shard receives 1,000 records per second of distinct keys (INSERTs), the most one
partition, hence one hot shard, carries. As Lambda does with a ParallelizationFactor above 1, the
records are split by a hash of their key into that many lanes; each lane hands the real replicator
(``build_replicator``) one batch at a time, of at most the deployment's ``batchSize`` records and
at most what has arrived, as soon as the previous invocation returns. An idle lane looks again at
Lambda's polling interval (four times a second). Each lane runs in its own process, as each
concurrent batch runs in its own execution environment. Every replica call is answered after the
round trip by :class:`bench.backend.LatencyBackend`, before botocore signs it: the lanes share this
host's CPUs, whereas each Lambda environment has its own, and that CPU is not what is measured.

Each region pair runs twice in the same run: with the factor ``deployconfig.sizing`` chooses for
it, and with 1 (the event source mapping's default). Reported: records/s processed while fed, the
backlog (records arrived, not yet replicated) and the lag (age of the oldest of them) at the end
and at their worst, and whether the backlog stopped growing (bounded).
"""

from __future__ import annotations

import argparse
import bisect
import io
import json
import multiprocessing
import os
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.backend import LatencyBackend
from bench.records import lambda_records
from bench.replication import UNUSED_ENDPOINT
from deployconfig.config import WRITES_IN_FLIGHT, DeploymentConfig
from deployconfig.config import load as load_config
from deployconfig.sizing import Sizing, size
from localrun.esm.settings import BASE_POLL_INTERVAL
from replicator.handler import build_replicator
from replicator.settings import Settings

RATE = 1_000  # records per second: what one partition (one hot shard) accepts
FULL_SECONDS, QUICK_SECONDS = 10.0, 1.5
SAMPLE_SECONDS = 0.05
BOUNDED_GROWTH = 0.05
"""Bounded: over the second half, the backlog grows by less than this share of the offered rate."""
PAIRS = (("us-east-1", "eu-west-1"), ("us-east-1", "ap-southeast-2"))


@dataclass(frozen=True, slots=True)
class Scenario:
    source_region: str
    replica_region: str
    sizing: Sizing
    parallelization_factor: int

    @property
    def chosen(self) -> bool:
        return self.parallelization_factor == self.sizing.parallelization_factor


@dataclass(frozen=True, slots=True)
class Invocation:
    """One lane's invocation returned at ``done_at``: the lane's first ``processed`` records are done."""

    lane: int
    done_at: float
    processed: int


@dataclass
class Lane:
    arrivals: list[float]
    """When each of the lane's records arrives, in stream order (seconds from the start)."""
    records: list[dict[str, Any]] = field(default_factory=list)


def lane_of(record: dict[str, Any], lanes: int) -> int:
    """Which concurrent batch a record goes to: a stable hash of its item key, as Lambda routes
    them (one item's records always to the same lane, so in order)."""
    keys = json.dumps(record["dynamodb"]["Keys"], sort_keys=True).encode()
    return zlib.crc32(keys) % lanes


def split(records: Sequence[dict[str, Any]], lanes: int, rate: float) -> list[Lane]:
    """The shard's records, arriving at ``rate`` per second in order, split into ``lanes``."""
    split_lanes = [Lane([]) for _ in range(lanes)]
    for index, record in enumerate(records):
        lane = split_lanes[lane_of(record, lanes)]
        lane.arrivals.append(index / rate)
        lane.records.append(record)
    return split_lanes


def _slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y) points; 0 for fewer than two."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (y - mean_y) for t, y in points) / spread if spread else 0.0


def summarise(
    lanes: Sequence[Lane], invocations: Sequence[Invocation], *, duration: float, rate: float
) -> dict[str, Any]:
    """Throughput, backlog and lag over the fed period, from when each invocation returned. Pure."""
    done: list[list[tuple[float, int]]] = [[] for _ in lanes]
    for invocation in sorted(invocations, key=lambda one: one.done_at):
        done[invocation.lane].append((invocation.done_at, invocation.processed))
    stamps = [[when for when, _ in lane] for lane in done]

    def state(t: float) -> tuple[int, float]:
        """Backlog (records arrived, not replicated) and lag (age of the oldest of them) at ``t``."""
        backlog, lag = 0, 0.0
        for lane, lane_done, lane_stamps in zip(lanes, done, stamps, strict=True):
            finished = bisect.bisect_right(lane_stamps, t)
            processed = lane_done[finished - 1][1] if finished else 0
            arrived = bisect.bisect_right(lane.arrivals, t)
            backlog += max(0, arrived - processed)
            if arrived > processed:
                lag = max(lag, t - lane.arrivals[processed])
        return backlog, lag

    samples = [
        (i * SAMPLE_SECONDS, *state(i * SAMPLE_SECONDS)) for i in range(int(duration / SAMPLE_SECONDS) + 1)
    ]
    end_backlog, end_lag = state(duration)
    processed = sum(max((count for when, count in lane if when <= duration), default=0) for lane in done)
    growth = _slope([(t, backlog) for t, backlog, _ in samples if t >= duration / 2])
    return {
        "records_per_s": round(processed / duration, 1),
        "backlog_end": end_backlog,
        "backlog_max": max(backlog for _, backlog, _ in samples),
        "lag_end_ms": round(end_lag * 1000),
        "lag_max_ms": round(max(lag for _, _, lag in samples) * 1000),
        "backlog_growth_per_s": round(growth, 1),
        "bounded": growth < BOUNDED_GROWTH * rate,
    }


class _Context:
    """A Lambda context whose deadline is the deployed replicator's timeout."""

    aws_request_id = "bench"

    def __init__(self, timeout_seconds: int) -> None:
        self._millis = timeout_seconds * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._millis


def _replicator(config: DeploymentConfig, round_trip: float) -> tuple[Callable[..., Any], LatencyBackend]:
    """A lane's replicator, every replica call answered after ``round_trip`` seconds."""
    settings = Settings(
        replica_table=config.replica_table_name,
        replica_region=config.replica_region,
        state_table=config.state_table_name,
        endpoint_url=UNUSED_ENDPOINT,
        max_concurrent_writes=WRITES_IN_FLIGHT,
    )
    backends: list[LatencyBackend] = []
    replicator = build_replicator(
        settings,
        out=io.StringIO(),
        # Answered before signing: the lanes share this host's CPUs, Lambda's lanes do not.
        instrument=lambda client: backends.append(LatencyBackend(client, round_trip, before_signing=True)),
    )
    return replicator.handle, backends[0]


@dataclass(frozen=True, slots=True)
class _LaneJob:
    index: int
    lane: Lane
    handle: Callable[..., Any]
    backend: LatencyBackend
    context: _Context
    batch_size: int
    duration: float


def _lane_process(job: _LaneJob, ready: Any, go: Any, start_at: Any, results: Any) -> None:
    """One lane in its own process, as each concurrent batch runs in its own execution environment
    (threads of one process would share one interpreter lock that Lambda's lanes do not share)."""
    try:
        ready.wait()  # every lane is started ...
        go.wait()  # ... and the feed's start is set
        started = start_at.value
        time.sleep(max(0.0, started - time.monotonic()))
        cpu = time.process_time()
        done = _drive(job, started)
        results.put((job.index, done, dict(job.backend.calls), time.process_time() - cpu, None))
    except Exception as exc:  # reported to the parent, which fails the run
        results.put((job.index, [], {}, 0.0, f"{type(exc).__name__}: {exc}"))


def _drive(job: _LaneJob, started: float) -> list[Invocation]:
    """Invoke the lane's replicator on what has arrived, one batch at a time, until the feed stops."""
    lane, position = job.lane, 0
    done: list[Invocation] = []
    while True:
        now = time.monotonic() - started
        if now >= job.duration or position == len(lane.records):
            return done
        arrived = bisect.bisect_right(lane.arrivals, now)
        if arrived == position:  # nothing waiting: look again at the next poll
            time.sleep(min(BASE_POLL_INTERVAL, job.duration - now))
            continue
        end = min(arrived, position + job.batch_size)
        response = job.handle({"Records": lane.records[position:end]}, job.context)
        if response["batchItemFailures"]:
            raise RuntimeError("the saturated-shard benchmark had failures")
        position = end
        done.append(Invocation(job.index, time.monotonic() - started, position))


def run_scenario(scenario: Scenario, config: DeploymentConfig, duration: float) -> dict[str, Any]:
    """Feed one shard at :data:`RATE` for ``duration`` seconds through ``scenario``'s lanes."""
    factor = scenario.parallelization_factor
    records = lambda_records(int(RATE * duration), event_name="INSERT")
    lanes = split(records, factor, RATE)
    # One warm replicator (imports, client, its latency hook), copied into every lane by fork: the
    # children inherit it and their lane's records; only the results are pickled.
    handle, backend = _replicator(config, scenario.sizing.round_trip_ms / 1000)
    context = _Context(config.replicator_timeout_seconds)
    handle({"Records": lambda_records(2, event_name="INSERT", first_user=10**7)}, context)
    backend.calls.clear()
    processes = multiprocessing.get_context("fork")
    ready, go = processes.Barrier(factor + 1), processes.Event()
    start_at = processes.Value("d", 0.0)
    results = processes.Queue()
    children = [
        processes.Process(
            target=_lane_process,
            args=(
                _LaneJob(index, lane, handle, backend, context, config.batch_size, duration),
                ready,
                go,
                start_at,
                results,
            ),
        )
        for index, lane in enumerate(lanes)
    ]
    for child in children:
        child.start()
    ready.wait(timeout=120)
    start_at.value = time.monotonic() + 0.05
    go.set()
    invocations: list[Invocation] = []
    calls: Counter[str] = Counter()
    errors, cpu_seconds = [], 0.0
    for _ in children:
        _, done, lane_calls, lane_cpu, error = results.get(timeout=duration + 300)
        invocations += done
        calls.update(lane_calls)
        cpu_seconds += lane_cpu
        if error:
            errors.append(error)
    for child in children:
        child.join()
    if errors:
        raise RuntimeError(f"a lane failed: {errors[0]}")
    replicated = sum(_last_positions(invocations, len(lanes)))
    return {
        "pair": f"{scenario.source_region} -> {scenario.replica_region}",
        "round_trip_ms": scenario.sizing.round_trip_ms,
        "parallelization_factor": factor,
        "chosen": scenario.chosen,
        "model_records_per_s": round(factor * scenario.sizing.lane_records_per_second),
        "invocations": len(invocations),
        "calls_per_record": {op: round(n / max(1, replicated), 3) for op, n in sorted(calls.items())},
        # The lanes share this host's CPUs; each Lambda lane has an execution environment's own.
        "cpu_ms_per_record": round(cpu_seconds * 1000 / max(1, replicated), 2),
        "host_cpus_used": round(cpu_seconds / duration, 2),
        **summarise(lanes, invocations, duration=duration, rate=RATE),
    }


def _last_positions(invocations: Sequence[Invocation], lanes: int) -> list[int]:
    last = [0] * lanes
    for invocation in invocations:
        last[invocation.lane] = max(last[invocation.lane], invocation.processed)
    return last


def scenarios(config: DeploymentConfig, pairs: Sequence[tuple[str, str]] = PAIRS) -> list[Scenario]:
    """Each region pair with the factor its round trip needs, and with 1 (the baseline)."""
    found = []
    for source, replica in pairs:
        estimate = size(source, replica, batch_size=config.batch_size, in_flight=WRITES_IN_FLIGHT)
        for factor in sorted({estimate.parallelization_factor, 1}, reverse=True):
            found.append(Scenario(source, replica, estimate, factor))
    return found


def run(quick: bool) -> dict[str, Any]:
    config = load_config()
    duration = QUICK_SECONDS if quick else FULL_SECONDS
    return {
        "host_cpus": os.cpu_count(),
        "rate": RATE,
        "duration_s": duration,
        "batch_size": config.batch_size,
        "writes_in_flight": WRITES_IN_FLIGHT,
        "runs": [run_scenario(scenario, config, duration) for scenario in scenarios(config)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_SECONDS:g} s per run instead of {FULL_SECONDS:g}"
    )
    args = parser.parse_args()
    print(json.dumps(run(args.quick), indent=2))


if __name__ == "__main__":
    main()
