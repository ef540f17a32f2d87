"""``python -m localrun``: ``demo`` (the whole system locally) and ``run`` (consumers outside Lambda)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from deployconfig.config import ConfigError
from deployconfig.config import load as load_config
from localrun.aws.clients import AwsClients
from localrun.demo.run import Demo, DemoOptions
from localrun.errors import LocalRunError
from localrun.esm import StartingPosition
from localrun.invoke import handlers as parts
from localrun.serve import ServeOptions, serve
from replicator.cli.options import endpoint_url, writable_file

DEMO_HELP = """\
Run the whole system on this machine: an embedded AWS (a moto server on a free loopback port) with
the source table and its stream in the source region and the replica in the replica region (both
from cdk.json, as the CDK app creates them), a mobile-app workload, the replicator and the
usage-metrics functions under an emulation of Lambda's event source mapping, their EMF metrics in
CloudWatch, the CloudWatch dashboards rendered to PNG + HTML, and a final consistency check.

The exit code is the consistency check's: 0 consistent, 1 differences, 2 error.
"""

DEMO_EPILOG = """\
examples:
  python -m localrun demo                       # one minute, about 1,200 writes
  python -m localrun demo --duration 10 --rate 50
  python -m localrun demo --keep-running        # then write with the AWS CLI (instructions printed)
  python -m localrun demo --shards 8 --split-at 20   # 8 virtual shards, one split after 20 s
  python -m localrun demo --endpoint-url http://127.0.0.1:5000   # an endpoint that is already up
"""

RUN_HELP = """\
Consume the source table's stream (cdk.json names it) with the replicator, and optionally the
usage-metrics function, in this process: the same event source mapping emulation as the demo,
against real AWS (the default credential chain, no endpoint override) or --endpoint-url.
Checkpoints are kept in a JSON file so a restart resumes where it stopped. Ctrl-C stops.

A stream shard serves at most two readers, and a deployed stack's two event source mappings take
both: `run` refuses to add its consumers to a stream that has no room for them, unless
--allow-third-reader is given (docs/operations.md).
"""


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than zero; got {text}")
        return value

    return parse


def _output_dir(text: str) -> Path:
    """A folder the run may create and write into: checked before anything starts."""
    path = Path(text).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{str(existing)!r} is a file, so {text!r} cannot be a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write into {str(existing)!r}: permission denied")
    return path


def _demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    demo = commands.add_parser(
        "demo",
        help="run the whole system locally, render its dashboards, check consistency",
        description=DEMO_HELP,
        epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = demo.add_argument
    add("--duration", type=_positive(float), default=60.0, metavar="S", help="seconds of workload (60)")
    add("--users", type=_positive(int), default=50, metavar="N", help="simulated app users (50)")
    add("--rate", type=_positive(float), default=20.0, metavar="W", help="writes per second (20)")
    add("--seed", type=int, default=7, help="workload seed: same seed, same operations (7)")
    add(
        "--window",
        type=_positive(int),
        default=10,
        metavar="S",
        help="tumbling window of the usage-metrics consumer, seconds (10; cdk.json deploys 60: a "
        "shorter one shows several windows in a short run)",
    )
    add(
        "--shards",
        type=_positive(int),
        default=4,
        metavar="N",
        help="virtual shards the stream is split into, by a hash of the partition key; each has its own "
        "batches, checkpoints and tumbling windows, all run concurrently (4; 1: moto's single shard)",
    )
    add(
        "--split-at",
        type=_positive(float),
        metavar="S",
        help="split the first virtual shard this many seconds into the workload, as DynamoDB splits a "
        "shard (needs --shards 2 or more)",
    )
    add(
        "--endpoint-url",
        type=endpoint_url,
        metavar="URL",
        help="use this endpoint instead of starting a moto server (with your AWS credentials; any "
        "value works for moto)",
    )
    add("--keep-running", action="store_true", help="leave the endpoint and consumers up at the end")
    add(
        "--output",
        type=_output_dir,
        default=Path("demo-output"),
        metavar="DIR",
        help="dashboards, logs, check report (demo-output)",
    )
    add("--verbose", action="store_true", help="log the runner's decisions (retries, bisections)")
    return demo


def _run_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    run = commands.add_parser("run", help="consume the stream outside Lambda", description=RUN_HELP)
    add = run.add_argument
    add("--endpoint-url", type=endpoint_url, metavar="URL", help="an endpoint instead of real AWS")
    add(
        "--function",
        action="append",
        choices=["replicator", "metrics"],
        help="a consumer to run; repeat for both (default: replicator)",
    )
    add(
        "--checkpoints",
        type=writable_file,
        default=Path(".localrun-checkpoints.json"),
        metavar="FILE",
        help="per-shard checkpoints, kept across restarts (.localrun-checkpoints.json)",
    )
    add("--failure-queue-url", metavar="URL", help="on-failure SQS queue of the replicator")
    add("--metrics-failure-queue-url", metavar="URL", help="on-failure SQS queue of the metrics function")
    add(
        "--starting-position",
        choices=[p.value for p in StartingPosition],
        help="where a shard without a checkpoint starts (default: as deployed, the replicator at "
        "TRIM_HORIZON, the usage metrics at LATEST)",
    )
    add("--publish-metrics", action="store_true", help="put the handlers' EMF metrics with PutMetricData")
    add(
        "--allow-third-reader",
        "--i-know-about-the-two-reader-limit",
        dest="allow_third_reader",
        action="store_true",
        help="run even when event source mappings already read the stream: a shard serves two readers, "
        "and each consumer run here is one more (it throttles them all)",
    )
    add("--log-dir", type=_output_dir, metavar="DIR", help="write each function's log lines here")
    add("--verbose", action="store_true", help="log the runner's decisions (retries, bisections)")
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localrun", description="The replicator's local runtime.")
    commands = parser.add_subparsers(dest="command", required=True)
    _demo_parser(commands)
    _run_parser(commands)
    return parser


def demo_help() -> str:
    commands = argparse.ArgumentParser().add_subparsers()
    return _demo_parser(commands).format_help()


def _demo(args: argparse.Namespace) -> int:
    if args.split_at is not None and args.shards < 2:
        raise LocalRunError(
            f"--split-at needs --shards 2 or more (got --shards {args.shards}): with one, the virtual "
            "shard is moto's own shard, which cannot be split"
        )
    options = DemoOptions(
        duration=args.duration,
        users=args.users,
        rate=args.rate,
        seed=args.seed,
        endpoint_url=args.endpoint_url,
        keep_running=args.keep_running,
        output=args.output,
        window_seconds=args.window,
        shards=args.shards,
        split_at=args.split_at,
    )
    run = Demo(options).run()
    return run.summary.check_exit_code if run.summary else 2


def _run(args: argparse.Namespace) -> int:
    cfg = load_config()
    options = ServeOptions(
        endpoint_url=args.endpoint_url,
        functions=tuple(args.function or ["replicator"]),
        checkpoints=args.checkpoints,
        failure_queue_url=args.failure_queue_url,
        metrics_failure_queue_url=args.metrics_failure_queue_url,
        starting_position=StartingPosition(args.starting_position) if args.starting_position else None,
        publish_metrics=args.publish_metrics,
        log_dir=args.log_dir,
        allow_third_reader=args.allow_third_reader,
    )
    serve(
        cfg, options, components=parts.load(), clients=AwsClients(args.endpoint_url), stop=threading.Event()
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "urllib3", "werkzeug", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return _demo(args) if args.command == "demo" else _run(args)
    except (ConfigError, LocalRunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"error: cannot use the file{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: stopped cleanly", file=sys.stderr)
        return 130
