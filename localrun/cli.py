"""``python -m localrun``: the demo, and the stream consumers run outside Lambda."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cdk.config import ConfigError
from localrun.components import MissingComponent
from localrun.demo import DemoOptions, run_demo

DEMO_HELP = """\
Run the whole system on this machine: an embedded AWS (a moto server on a free loopback port) with
the source table and its stream in the source region and the replica in the replica region (both
from cdk.json, as the CDK app creates them), a mobile-app workload, the replicator and the
usage-metrics functions under a faithful emulation of Lambda's event source mapping, EMF metrics,
the CloudWatch dashboards rendered to PNG + HTML, and a final consistency check.

The exit code is the consistency check's: 0 consistent, 1 differences, 2 error.
"""

DEMO_EPILOG = """\
examples:
  python -m localrun demo                       # one minute, about 1,200 writes
  python -m localrun demo --duration 10 --rate 50
  python -m localrun demo --keep-running        # then write with the AWS CLI (instructions printed)
  python -m localrun demo --endpoint-url http://127.0.0.1:5000   # an already running endpoint
"""


def _positive(kind: type[float] | type[int]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> float | int:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than zero; got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localrun", description="The local runtime of the replicator."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run the whole system locally, render its dashboards, check consistency",
        description=DEMO_HELP,
        epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--duration",
        type=_positive(float),
        default=60.0,
        metavar="S",
        help="seconds of workload (default 60)",
    )
    demo.add_argument(
        "--users", type=_positive(int), default=50, metavar="N", help="simulated app users (default 50)"
    )
    demo.add_argument(
        "--rate", type=_positive(float), default=20.0, metavar="W", help="writes per second (default 20)"
    )
    demo.add_argument(
        "--seed", type=int, default=7, help="workload seed: same seed, same operations (default 7)"
    )
    demo.add_argument(
        "--window",
        type=_positive(int),
        default=10,
        metavar="S",
        help="tumbling window of the metrics consumer in seconds (default 10; cdk.json deploys 60, "
        "a shorter one shows several windows in a short run)",
    )
    demo.add_argument(
        "--endpoint-url", metavar="URL", help="use this endpoint instead of starting a moto server"
    )
    demo.add_argument(
        "--keep-running", action="store_true", help="leave the endpoint and consumers up at the end"
    )
    demo.add_argument(
        "--output",
        type=Path,
        default=Path("demo-output"),
        metavar="DIR",
        help="where dashboards, logs and the check report go (default demo-output/)",
    )
    demo.add_argument(
        "--verbose", action="store_true", help="log the runner's decisions (retries, bisections)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "urllib3", "werkzeug", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    options = DemoOptions(
        duration=args.duration,
        users=args.users,
        rate=args.rate,
        seed=args.seed,
        endpoint_url=args.endpoint_url,
        keep_running=args.keep_running,
        output=args.output,
        window_seconds=args.window,
    )
    try:
        run = run_demo(options)
    except (MissingComponent, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: stopped the workload, the consumers and the endpoint", file=sys.stderr)
        return 130
    return run.summary.check_exit_code if run.summary else 2
