"""Items per second of `check` with 1, 2 and 4 segments, against a naive baseline, in one run.

Both tables (source in us-east-1, replica in eu-west-1) are filled with the same items, each region
in its own moto server process (as the two regions are separate services), so the client's threads
are not serialised on one server's interpreter lock. Every request from the client also sleeps
``LATENCY_MS`` first (a botocore ``before-send`` hook), standing for the network round trip a real
DynamoDB endpoint costs; without it, a local server would make parallelism look pointless.

* ``check`` runs through the real command line (``replicator.cli.main``, driven in-process by
  ``faultlab.operator.run_operator``), no read-rate limit, no grace period, each time on the same
  data; the best of three runs (one with ``--quick``).
* The naive baseline is what diff-tables-style tools do: scan the source on one thread and read
  each key from the replica with GetItem, comparing the items without the replicator's metadata.
* The scan-only ceiling is both tables merely scanned at once, without latency or comparison: on this
  machine the moto servers' CPU, not the client, bounds every figure, so more segments cannot help
  here the way they do against DynamoDB, where each segment is served by other partitions.

    python -m bench.check_throughput [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from deployconfig.config import load as load_config
from faultlab.operator import run_operator
from localrun.aws.tables import create_replica_tables, create_source_table
from replicator.cli.commands import Runtime
from replicator.core import schema, version

LATENCY_MS = 5.0
SEGMENTS = (1, 2, 4)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in a child process; yields its URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _with_latency(client: Any) -> Any:
    client.meta.events.register("before-send", lambda **_: time.sleep(LATENCY_MS / 1000))
    return client


def _client(url: str, region: str) -> Any:
    return boto3.client(
        "dynamodb", region_name=region, endpoint_url=url, config=Config(retries={"max_attempts": 10})
    )


def _item(n: int) -> dict[str, Any]:
    return {
        "user_id": {"S": f"user-{n:07d}"},
        "timestamp": {"N": str(1_700_000_000 + n)},
        "plan": {"S": ("free", "plus", "pro")[n % 3]},
        "country": {"S": ("FR", "DE", "US", "JP", "BR")[n % 5]},
        "score": {"N": str(n * 37 % 100_003)},
        "payload": {"S": "x" * (150 + n % 200)},
    }


def _fill(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        requests: Any = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        pending = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _naive(source_url: str, replica_url: str) -> tuple[int, int]:
    """Scan the source, GetItem every key from the replica; returns (items, differences)."""
    source = _with_latency(_client(source_url, "us-east-1"))
    replica = _with_latency(_client(replica_url, "eu-west-1"))
    items = differences = 0
    kwargs: dict[str, Any] = {"TableName": "Users"}
    while True:
        page = source.scan(**kwargs)
        for item in page["Items"]:
            items += 1
            key = {"user_id": item["user_id"], "timestamp": item["timestamp"]}
            other = replica.get_item(TableName="Users", Key=key).get("Item")
            if other is None or {k: v for k, v in other.items() if k != schema.VERSION_ATTRIBUTE} != item:
                differences += 1
        if "LastEvaluatedKey" not in page:
            return items, differences
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _scan_ceiling(source_url: str, replica_url: str) -> float:
    """Seconds to merely scan both tables at once, no latency: what the servers allow at best here."""

    def scan(url: str, region: str) -> None:
        client = _client(url, region)
        kwargs: dict[str, Any] = {"TableName": "Users"}
        while True:
            page = client.scan(**kwargs)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(scan, (source_url, replica_url), ("us-east-1", "eu-west-1")))
    return time.perf_counter() - started


def _check(source_url: str, replica_url: str, segments: int, report: Path) -> dict[str, Any]:
    argv = ["check", "--source", "us-east-1/Users", "--replica", "eu-west-1/Users"]
    argv += ["--source-endpoint-url", source_url, "--replica-endpoint-url", replica_url]
    argv += ["--segments", str(segments), "--max-read-units", "0", "--grace-seconds", "0"]
    argv += ["--no-progress", "--json", str(report)]
    result = run_operator(argv, runtime=Runtime(instrument=_with_latency))
    if result.code != 0:
        raise RuntimeError(f"check exited {result.code}: {result.stderr}")
    return dict(result.document)


def run(quick: bool) -> dict[str, Any]:
    """Fill both tables identically, then time the naive baseline and `check` on 1, 2 and 4 segments."""
    count = 300 if quick else 5_000
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)
    config = load_config()
    with moto_server() as source_url, moto_server() as replica_url, tempfile.TemporaryDirectory() as scratch:
        source, replica = _client(source_url, "us-east-1"), _client(replica_url, "eu-west-1")
        create_source_table(source, config)
        create_replica_tables(replica, config)
        items = [_item(n) for n in range(count)]
        _fill(source, "Users", items)
        _fill(replica, "Users", [{**i, schema.VERSION_ATTRIBUTE: {"S": version.encode(1)}} for i in items])
        started = time.perf_counter()
        naive_items, naive_differences = _naive(source_url, replica_url)
        naive_seconds = time.perf_counter() - started
        if (naive_items, naive_differences) != (count, 0):
            raise RuntimeError("the naive baseline did not see two identical tables")
        figures: dict[str, Any] = {
            "items": count,
            "injected_latency_ms_per_request": LATENCY_MS,
            "server": "one moto server process per region",
            "cpus": os.cpu_count(),
            "naive_items_per_s": round(count / naive_seconds),
            "scan_only_ceiling_items_per_s": round(count / _scan_ceiling(source_url, replica_url)),
        }
        for segments in SEGMENTS:
            seconds = float("inf")
            for _ in range(1 if quick else 3):  # best of three: the machine is shared
                started = time.perf_counter()
                document = _check(source_url, replica_url, segments, Path(scratch) / f"check-{segments}.json")
                seconds = min(seconds, time.perf_counter() - started)
                if document["sourceItems"] != count or not document["consistent"]:
                    raise RuntimeError(f"check with {segments} segment(s) did not compare every item")
            figures[f"check_items_per_s_{segments}_segments"] = round(count / seconds)
            figures[f"ratio_to_naive_{segments}_segments"] = round(naive_seconds / seconds, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 items instead of 5,000")
    print(json.dumps(run(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
