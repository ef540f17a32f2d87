"""Replicator throughput at cross-region latency, coalescing on hot keys, and memory per batch.

Each figure is measured for our replicator and, where the issue asks, for a naive baseline (one
unconditional PutItem per record, in order) in the same run against the same backend.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
import tracemalloc
from typing import Any

from bench.backend import LatencyBackend
from bench.records import lambda_records
from ddbstream.attributes import item_from_event
from deployconfig.config import load as load_config
from replicator.adapters.clients import replica_client
from replicator.handler import Replicator, build_replicator
from replicator.settings import Settings

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
UNUSED_ENDPOINT = "http://127.0.0.1:9"  # never contacted: the backend answers before sending
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024  # an invocation's event is at most 6 MB
RUNTIME_BASELINE_MB = 100  # Python runtime, boto3 and our modules, measured by Lambda's Max Memory Used


class _Context:
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _settings(concurrency: int) -> Settings:
    return Settings(
        replica_table="Users",
        replica_region="eu-west-1",
        state_table="Users-replication-state",
        endpoint_url=UNUSED_ENDPOINT,
        max_concurrent_writes=concurrency,
    )


def _ours(latency: float, concurrency: int) -> tuple[Replicator, LatencyBackend]:
    backends: list[LatencyBackend] = []
    replicator = build_replicator(
        _settings(concurrency),
        out=io.StringIO(),
        instrument=lambda client: backends.append(LatencyBackend(client, latency)),
    )
    return replicator, backends[0]


def _time_ours(
    records: list[dict[str, Any]], latency: float, concurrency: int
) -> tuple[float, LatencyBackend]:
    replicator, backend = _ours(latency, concurrency)
    replicator.handle({"Records": records[:2]}, _Context())  # warm the connection pool and imports
    backend.calls.clear()
    started = time.perf_counter()
    response = replicator.handle({"Records": records}, _Context())
    elapsed = time.perf_counter() - started
    if response["batchItemFailures"]:
        raise RuntimeError("the benchmark batch had failures")
    return elapsed, backend


def _time_naive(records: list[dict[str, Any]], latency: float) -> float:
    """The baseline: what most stream replicators do, one unconditional PutItem per record, in order."""
    client = replica_client(
        region="eu-west-1", endpoint_url=UNUSED_ENDPOINT, role_arn=None, max_connections=1
    )
    LatencyBackend(client, latency)
    started = time.perf_counter()
    for record in records:
        item = item_from_event(record["dynamodb"]["NewImage"], "NewImage")
        client.put_item(TableName="Users", Item=item)
    return time.perf_counter() - started


def throughput(quick: bool, latency: float) -> dict[str, Any]:
    concurrency = load_settings_concurrency()
    count = 300 if quick else 1000
    naive_count = 8 if quick else 40  # a rate is a rate: 40 serial round trips already take 3 s
    records = lambda_records(count)
    ours_seconds, backend = _time_ours(records, latency, concurrency)
    # INSERTs read their tombstones first (one BatchGetItem per 100 keys): one more round trip.
    insert_seconds, _ = _time_ours(lambda_records(count, event_name="INSERT"), latency, concurrency)
    naive_seconds = _time_naive(records[:naive_count], latency)
    ours_rps = count / ours_seconds
    naive_rps = naive_count / naive_seconds
    limit = concurrency / latency
    return {
        "latency_ms": latency * 1000,
        "records": count,
        "concurrency": concurrency,
        "ours_records_per_s": round(ours_rps, 1),
        "naive_records_per_s": round(naive_rps, 2),
        "ratio": round(ours_rps / naive_rps, 1),
        "ours_insert_records_per_s": round(count / insert_seconds, 1),
        "insert_ratio": round(count / insert_seconds / naive_rps, 1),
        "limit_records_per_s": round(limit, 1),
        "fraction_of_limit": round(ours_rps / limit, 3),
        "max_in_flight": backend.max_in_flight,
    }


def hot_keys(quick: bool, latency: float) -> dict[str, Any]:
    count, keys = (1000, 50)
    records = lambda_records(count, keys=keys)
    seconds, backend = _time_ours(records, latency, load_settings_concurrency())
    writes = sum(
        n for op, n in backend.calls.items() if op != "UpdateItem"
    )  # UpdateItem: the high-water mark
    return {
        "latency_ms": latency * 1000,
        "records": count,
        "distinct_keys": keys,
        "writes_issued": writes,
        "writes_per_record": round(writes / count, 3),
        "records_per_s": round(count / seconds, 1),
    }


def _peak_bytes(records: list[dict[str, Any]]) -> int:
    """Peak Python memory of one invocation, from the event's JSON text (as the runtime gets it) on."""
    replicator, _ = _ours(0.0, load_settings_concurrency())
    replicator.handle({"Records": records[:2]}, _Context())
    payload = json.dumps({"Records": records})
    tracemalloc.start()
    tracemalloc.reset_peak()
    replicator.handle(json.loads(payload), _Context())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def memory(quick: bool) -> dict[str, Any]:
    config = load_config()
    small = lambda_records(2000 if quick else 10_000)
    small_event_bytes = len(json.dumps({"Records": small}))
    small_peak = _peak_bytes(small)
    big_count = 3 if quick else 8
    big = lambda_records(big_count, payload_bytes=395_000)  # items near 400 KB, NEW + OLD images each
    big_record_bytes = len(json.dumps(big[0]))
    big_peak = _peak_bytes(big)
    per_big = big_peak / big_count
    budget = (config.replicator_memory_mb - RUNTIME_BASELINE_MB) * 1024 * 1024
    return {
        "small_records": len(small),
        "small_event_mb": round(small_event_bytes / 2**20, 2),
        "small_peak_mb": round(small_peak / 2**20, 2),
        "small_peak_kb_per_record": round(small_peak / len(small) / 1024, 2),
        "big_record_kb": round(big_record_bytes / 1024, 1),
        "big_peak_kb_per_record": round(per_big / 1024, 1),
        "lambda_memory_mb": config.replicator_memory_mb,
        "largest_big_batch_in_memory": int(budget // per_big),
        "largest_big_batch_in_payload": LAMBDA_PAYLOAD_LIMIT // big_record_bytes,
    }


def load_settings_concurrency() -> int:
    """The replicator's default MAX_CONCURRENT_WRITES (what a deployment runs with)."""
    return Settings(replica_table="t", replica_region="r", state_table="s").max_concurrent_writes


def run(quick: bool, latency: float = 0.075) -> dict[str, Any]:
    return {
        "throughput": throughput(quick, latency),
        "hot_keys": hot_keys(quick, latency),
        "memory": memory(quick),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller batches (a smoke test)")
    parser.add_argument("--latency-ms", type=float, default=75.0, help="injected round trip (default 75)")
    args = parser.parse_args()
    print(json.dumps(run(args.quick, args.latency_ms / 1000), indent=2))


if __name__ == "__main__":
    main()
