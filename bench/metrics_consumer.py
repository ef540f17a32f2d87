"""CPU time and EMF bytes per record of the usage-metrics consumer, against a per-record emitter.

A batch of 10,000 stream records (1,000 with ``--quick``), shaped exactly as Lambda delivers
them (``ddbstream.lambda_event``), goes through the real Lambda entry point
(``metrics.handler.handler``, standard output captured) and, in the same run, through the naive
one-document-per-record emitter of ``bench/naive_emf.py``. Both include parsing the event.
CPU time is ``time.process_time``, the best of a few repetitions.

    python -m bench.metrics_consumer [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.naive_emf import emit_per_record
from ddbstream import parse_event
from ddbstream.lambda_event import lambda_event
from metrics import handler as entry
from metrics.settings import from_environ
from tests.support.events import STREAM_ARN, raw_record

ENVIRONMENT = {
    "METRICS_NAMESPACE": "DynamoDBUsage",
    "USER_ID_ATTRIBUTE": "user_id",
    "TRACKED_ATTRIBUTES": "plan,country,app_version",
    "SEGMENT_ATTRIBUTE": "platform",
    "SEGMENT_VALUES": "ios,android,web",
}
PLATFORMS = ("ios", "android", "web", "tv")
PLANS = ("free", "plus", "pro")


def _item(rng: random.Random, user: int, timestamp: int) -> dict[str, Any]:
    return {
        "user_id": {"S": f"user-{user:07d}"},
        "timestamp": {"N": str(timestamp)},
        "platform": {"S": rng.choice(PLATFORMS)},
        "plan": {"S": rng.choice(PLANS)},
        "country": {"S": rng.choice(("FR", "DE", "US", "JP", "BR"))},
        "app_version": {"S": f"5.{rng.randrange(4)}.0"},
        "score": {"N": str(rng.randrange(10**6))},
        "payload": {"S": "x" * rng.randrange(50, 400)},
    }


def stream_records(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """GetRecords-shaped records: 60% INSERT, 30% MODIFY, 8% REMOVE, 2% TTL deletes."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out = []
    for i in range(count):
        user, kind = rng.randrange(count // 3 + 1), rng.random()
        old, new = _item(rng, user, i), _item(rng, user, i)
        created = now - dt.timedelta(seconds=rng.randrange(5))
        keys = {"user_id": new["user_id"], "timestamp": new["timestamp"]}
        name = "INSERT" if kind < 0.6 else "MODIFY" if kind < 0.9 else "REMOVE"
        out.append(
            raw_record(
                10**20 + i,
                name,
                keys=keys,
                new_image=None if name == "REMOVE" else new,
                old_image=None if name == "INSERT" else old,
                created_at=created,
                ttl_delete=kind >= 0.98,
            )
        )
    return out


@contextlib.contextmanager
def _environment() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    os.environ.update(ENVIRONMENT)
    entry._handler = None  # read the environment afresh, as a new container would
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        entry._handler = None


def _best_cpu(run: Callable[[], str], repeat: int) -> tuple[float, str]:
    best, output = float("inf"), ""
    for _ in range(repeat):
        start = time.process_time()
        output = run()
        best = min(best, time.process_time() - start)
    return best, output


def run(quick: bool) -> dict[str, Any]:
    """Measure both emitters on one batch; figures per record and the ratios between them."""
    count = 1_000 if quick else 10_000
    repeat = 1 if quick else 3
    event = lambda_event(stream_records(count), stream_arn=STREAM_ARN)
    settings = from_environ(ENVIRONMENT)

    def aggregated() -> str:
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            entry.handler(event, None)
        return captured.getvalue()

    def naive() -> str:
        return "".join(f"{line}\n" for line in emit_per_record(parse_event(event), settings, time.time()))

    with _environment():
        cpu, out = _best_cpu(aggregated, repeat)
    naive_cpu, naive_out = _best_cpu(naive, repeat)
    figures = {
        "records": count,
        "cpu_us_per_record": round(cpu / count * 1e6, 2),
        "emf_documents": out.count("\n"),
        "emf_bytes_per_record": round(len(out.encode()) / count, 2),
        "naive_cpu_us_per_record": round(naive_cpu / count * 1e6, 2),
        "naive_emf_documents": naive_out.count("\n"),
        "naive_emf_bytes_per_record": round(len(naive_out.encode()) / count, 2),
    }
    figures["cpu_ratio_naive_to_aggregated"] = round(naive_cpu / cpu, 2)
    figures["bytes_ratio_naive_to_aggregated"] = round(len(naive_out) / len(out), 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 records, one repetition")
    print(json.dumps(run(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
