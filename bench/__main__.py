"""Run every benchmark and write the results table to docs/benchmarks.md.

python -m bench            # full run (a few minutes)
python -m bench --quick    # smaller inputs: the smoke test CI runs
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    check_throughput,
    cost,
    end_to_end,
    export_check,
    metrics_consumer,
    replication,
    saturated,
    sharded,
)
from bench.report import SECTIONS, render

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

BENCHMARKS: dict[str, Callable[[bool], dict[str, Any]]] = {
    # First: it forks one process per lane; a child forked while a thread left by another benchmark
    # (an embedded server, a pool) holds a lock would wait for ever (seen in a full run).
    "saturated": saturated.run,
    "replication": replication.run,
    "end_to_end": end_to_end.run,
    "metrics_consumer": metrics_consumer.run,
    "check_throughput": check_throughput.run,
    "cost": cost.run,
    "sharded": sharded.run,
    # Last: it starts a JVM (Spark), which stays until the process ends.
    "export_check": export_check.run,
}


def run_all(quick: bool, only: list[str] | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, bench in BENCHMARKS.items():
        if only and name not in only:
            continue
        print(f"running {name}{' (quick)' if quick else ''} ...", file=sys.stderr, flush=True)
        results[name] = bench(quick)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke test")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"where to write (default {DEFAULT_OUTPUT})"
    )
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only these benchmarks"
    )
    args = parser.parse_args(argv)
    results = run_all(args.quick, args.only)
    machine = f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    text = render(results, quick=args.quick, when=dt.datetime.now(dt.UTC), machine=machine)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(SECTIONS)} sections)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
