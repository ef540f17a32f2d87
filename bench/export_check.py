"""The export check at scale: the Spark job on a generated pair of exports, against one Python process.

A source export and its replica's, N items each in AWS's layout (written by the project's writer,
``replicator.exports.writer``; gzip JSON lines, 50,000 items per data file), with seeded differences
(one key in 100,000 missing from the replica, one extra, one different). Two comparisons of the
same pair, with the same rule (``replicator.core.compare``), in the same run:

- **ours**: ``jobs/export_compare.py`` on ``local[*]`` (this machine's cores), the local engine's
  session; nothing of the tables is held on the driver;
- **baseline**: one Python process reading both exports file by file and pairing the summaries in a
  dict keyed by ``key_id`` (what a home-made one-machine tool does): memory grows with the table.

Both must find exactly the seeded differences. Reported: items compared per second (both tables'
items), the Python process's peak RSS, and, from the measured rate per core, the extrapolation to
1 billion items on EMR Serverless (workers, time, dollars) with the method.

    .venv/bin/python -m bench.export_check [--items N] [--quick]    (default 4,000,000 items a side)
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ddbstream.attributes import item_from_event
from jobs.export_interface import JobArgs
from replicator.cli.diff import Matcher
from replicator.core import version
from replicator.core.compare import Origin, Rules, count_by_kind, summarise
from replicator.core.schema import VERSION_ATTRIBUTE
from replicator.exports.layout import FILES_NAME, data_path, item_of_line, parse_manifest_files
from replicator.exports.writer import write_export

KEY_NAMES = ("user_id", "timestamp")
PER_FILE = 50_000
EVERY = 100_000  # one seeded difference of each kind per this many items
NOW = 1_800_000_000.0
PLANS = ("free", "pro", "team", "enterprise")
PLATFORMS = ("ios", "android", "web")

# EMR Serverless, us-east-1, arm64 (Graviton), as published on https://aws.amazon.com/emr/pricing/
# (the page is not reachable from here: check it before budgeting).
EMR_VCPU_HOUR = 0.042094
EMR_GB_HOUR = 0.004628
EMR_GB_PER_VCPU = 4  # the job's workers: 4 vCPU / 16 GB, Spark's usual 4 GB per core
EMR_STARTUP_SECONDS = 120  # application start and executor ramp-up, paid once per run (an estimate)


def _item(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "user_id": {"S": f"user-{i // 4:09d}"},
        "timestamp": {"N": str(1_700_000_000 + i)},
        "plan": {"S": PLANS[i % 4]},
        "platform": {"S": PLATFORMS[i % 3]},
        "score": {"N": str(rng.randrange(10_000))},
        "tags": {"SS": sorted(rng.sample(("a", "b", "c", "d", "e", "f"), 3))},
        "profile": {"M": {"locale": {"S": "en-GB"}, "age": {"N": str(18 + i % 60)}}},
    }


def _replica(item: dict[str, Any], i: int) -> dict[str, Any]:
    return {**item, VERSION_ATTRIBUTE: {"S": version.encode(10**20 + i)}}


def _files(n: int, side: str, seed: int) -> Iterator[list[dict[str, Any]]]:
    """One side's items, one list per data file, with the seeded differences on the replica's side."""
    rng = random.Random(seed)  # the same stream of values on both sides
    batch: list[dict[str, Any]] = []
    for i in range(n):
        item = _item(i, rng)
        if side == "source":
            batch.append(item)
        elif i % EVERY == 2:
            batch.append(_replica({**item, "plan": {"S": "changed"}}, i))  # different
        elif i % EVERY != 1:  # i % EVERY == 1: missing in the replica
            batch.append(_replica(item, i))
        if side == "replica" and i % EVERY == 3:
            batch.append(_replica(_item(n + i, random.Random(i)), n + i))  # extra in the replica
        if len(batch) >= PER_FILE:
            yield batch
            batch = []
    yield batch
    yield []  # an empty partition's file


def expected(n: int) -> dict[str, int]:
    def count(offset: int) -> int:
        return len(range(offset, n, EVERY))

    return {"missing": count(1), "different": count(2), "extra": count(3), "unreplicable": 0}


def _write_side(folder: Path, n: int, side: str) -> tuple[Path, int]:
    root = folder / side / "AWSDynamoDB" / f"0180000000000{0 if side == 'source' else 6}-bench"
    table = f"arn:aws:dynamodb:us-east-1:123456789012:table/Users{'-replica' if side == 'replica' else ''}"
    summary = write_export(root, _files(n, side, seed=1), table_arn=table, export_time=NOW)
    return root, summary.billed_size_bytes


def write_pair(folder: Path, n: int) -> tuple[Path, Path, int]:
    """Both exports, one process per side (generation is a third of the run otherwise)."""
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        source, replica = pool.map(_write_side, [folder] * 2, [n] * 2, ["source", "replica"])
    return source[0], replica[0], source[1] + replica[1]


def baseline(source: Path, replica: Path, rules: Rules) -> dict[str, int]:
    """One process, the same rule and the scan check's own pairing (``replicator.cli.diff.Matcher``):
    every source item is held until its replica side comes, so memory grows with the table."""
    matcher = Matcher()
    for root, origin in ((source, Origin.SOURCE), (replica, Origin.REPLICA)):
        for data_file in parse_manifest_files((root / FILES_NAME).read_text()):
            path = Path(data_path(str(root), data_file.data_file_key))
            if path.stat().st_size == 0:
                continue
            with gzip.open(path, "rt", encoding="utf-8") as lines:
                for line in lines:
                    item = item_from_event(item_of_line(line), "item")
                    matcher.offer(summarise(origin, item, rules, NOW))
    return {**count_by_kind(matcher.candidates()), "matched": matcher.stats.matched}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _active() -> Any:
    from pyspark.sql import SparkSession  # noqa: PLC0415

    return SparkSession.getActiveSession()


def _spark() -> Any:
    from pyspark.sql import SparkSession  # noqa: PLC0415

    return (
        SparkSession.builder.master("local[*]")
        .appName("bench-export-check")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2)))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


def run(quick: bool, items: int | None = None) -> dict[str, Any]:
    from jobs.export_compare import run as compare  # noqa: PLC0415 - imports pyspark

    n = items or (5_000 if quick else 4_000_000)
    rules = Rules(KEY_NAMES, ttl_attribute="expires_at")
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch:
        folder = Path(scratch)
        started = time.monotonic()
        source, replica, billed = write_pair(folder, n)
        generated = time.monotonic() - started
        gz_bytes = sum(p.stat().st_size for p in folder.rglob("*.json.gz"))
        active = _active()
        spark = active or _spark()
        spark.sparkContext.setLogLevel("ERROR")
        try:
            started = time.monotonic()
            args = JobArgs.of(str(source), str(replica), str(folder / "out"), rules, NOW)
            summary = compare(spark, args)
            ours = time.monotonic() - started
        finally:
            if active is None:  # a session this process already had (the tests') is left running
                spark.stop()
        rss_after_spark = _peak_rss_mb()
        started = time.monotonic()
        naive = baseline(source, replica, rules)
        theirs = time.monotonic() - started
        rss_after_baseline = _peak_rss_mb()
    want = expected(n)
    found = {kind: summary.differences[kind] for kind in want}
    assert found == want, (found, want)
    assert {kind: naive[kind] for kind in want} == want, (naive, want)
    compared = summary.source_items + summary.replica_items
    per_core = compared / ours / cores
    return {
        "items": n,
        "compared": compared,
        "cores": cores,
        "generate_seconds": generated,
        "gz_bytes": gz_bytes,
        "json_bytes": summary.source_bytes + summary.replica_bytes,
        "billed_bytes": billed,
        "ours_seconds": ours,
        "baseline_seconds": theirs,
        "ours_rate": compared / ours,
        "baseline_rate": compared / theirs,
        "ratio": theirs / ours,
        "per_core_rate": per_core,
        "rss_ours_mb": rss_after_spark,
        "rss_baseline_mb": rss_after_baseline,
        "differences": found,
        "emr": extrapolate(per_core, compared / n),
    }


def extrapolate(per_core: float, sides: float, items: int = 1_000_000_000) -> dict[str, Any]:
    """1 billion items per table on EMR Serverless at the measured rate per core."""
    out = {}
    for vcpus in (100, 200, 400):
        seconds = items * sides / (per_core * vcpus) + EMR_STARTUP_SECONDS
        hours = seconds / 3600
        dollars = vcpus * hours * (EMR_VCPU_HOUR + EMR_GB_PER_VCPU * EMR_GB_HOUR)
        out[str(vcpus)] = {"minutes": seconds / 60, "dollars": dollars, "workers": vcpus // 4}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--items",
        type=int,
        help="items per table (default 4,000,000: under 15 minutes on 2 cores; --quick 5,000)",
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick, args.items), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
