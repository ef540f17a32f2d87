"""End to end on the embedded server: the real consumers under the local event source mapping.

The demo's whole pipeline (workload -> source table -> stream -> runner -> replicator -> replica)
runs at a steady offered load, with an injected round trip on every replica call (the replicator
client sleeps before sending, as a cross-region network would make it wait). In the same run, on a
fresh embedded server, the server's own raw capacity for conditional PutItem is measured with no
latency: our replica writes per second as a fraction of it says whether the replicator or the
backend is the bottleneck.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localrun.aws.clients import AwsClients
from localrun.aws.server import EmbeddedServer
from localrun.demo.run import Demo, DemoOptions
from localrun.invoke import handlers as parts
from localrun.invoke.function import HandlerFactory
from replicator.handler import build_replicator
from replicator.settings import from_environ


def _add_latency(client: Any, seconds: float) -> None:
    def wait(**_: Any) -> None:
        time.sleep(seconds)  # the request is then really sent to the server

    client.meta.events.register("before-send.dynamodb", wait)


def _replicator_with_latency(seconds: float) -> HandlerFactory:
    def factory(environ: Mapping[str, str]) -> Any:
        replicator = build_replicator(
            from_environ(environ), instrument=lambda client: _add_latency(client, seconds)
        )
        return replicator.handle

    return factory


def _no_check(request: parts.CheckRequest) -> parts.CheckResult:
    return parts.CheckResult(0, "not run by the benchmark")


def raw_conditional_put_capacity(seconds: float, threads: int = 8) -> float:
    """Conditional PutItem calls per second the embedded server answers, from ``threads`` clients."""
    with EmbeddedServer() as server:
        clients = AwsClients(server.url, fake_credentials=True)
        dynamodb = clients.dynamodb("eu-west-1")
        dynamodb.create_table(
            TableName="capacity",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        counter = itertools.count()
        done = [0] * threads
        stop = threading.Event()

        def hammer(slot: int) -> None:
            client = clients.dynamodb("eu-west-1")
            while not stop.is_set():
                client.put_item(
                    TableName="capacity",
                    Item={"k": {"S": f"k{next(counter) % 500}"}, "v": {"S": "x" * 100}, "n": {"N": "1"}},
                    ConditionExpression="attribute_not_exists(n) OR n < :n",
                    ExpressionAttributeValues={":n": {"N": "2"}},
                )
                done[slot] += 1

        workers = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        time.sleep(seconds)
        stop.set()
        for worker in workers:
            worker.join()
        return sum(done) / (time.perf_counter() - started)


def pipeline(quick: bool, latency: float) -> dict[str, Any]:
    duration, rate = (3.0, 40.0) if quick else (30.0, 150.0)
    real = parts.load()
    components = parts.Components(_replicator_with_latency(latency), real.metrics, _no_check, _no_check)
    with tempfile.TemporaryDirectory() as output:
        options = DemoOptions(
            duration=duration, users=200, rate=rate, output=Path(output), progress_every=duration
        )
        started = time.perf_counter()
        result = Demo(options, components=components, say=lambda _: None).run()
        elapsed = time.perf_counter() - started
    summary = result.summary
    assert summary is not None
    return {
        "offered_writes_per_s": rate,
        "duration_s": duration,
        "writes": summary.writes,
        "achieved_writes_per_s": round(summary.writes / duration, 1),
        "records_replicated": summary.replicated,
        "records_skipped": summary.skipped,
        "records_per_s": round((summary.replicated + summary.skipped) / duration, 1),
        "replicated_per_s": round(summary.replicated / duration, 1),
        "lag_p50_ms": round(summary.lag_p50_ms or 0),
        "lag_p99_ms": round(summary.lag_p99_ms or 0),
        "caught_up": result.caught_up,
        "wall_s": round(elapsed, 1),
    }


def run(quick: bool, latency: float = 0.075) -> dict[str, Any]:
    capacity = raw_conditional_put_capacity(1.0 if quick else 5.0)
    figures = pipeline(quick, latency)
    figures["latency_ms"] = latency * 1000
    figures["raw_put_capacity_per_s"] = round(capacity, 1)
    figures["fraction_of_capacity"] = round(figures["replicated_per_s"] / capacity, 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds of load (smoke test)")
    parser.add_argument("--latency-ms", type=float, default=75.0)
    args = parser.parse_args()
    print(json.dumps(run(args.quick, args.latency_ms / 1000), indent=2))


if __name__ == "__main__":
    main()
