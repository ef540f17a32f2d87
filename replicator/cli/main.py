"""``python -m replicator`` / ``ddb-replicator``: check, repair, backfill and redrive a replica.

Errors an operator can fix (a bad option, a missing table, reads that keep failing) end the command
with one line on standard error and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from replicator.cli import commands
from replicator.cli.commands import ERROR, Runtime
from replicator.cli.errors import CliError
from replicator.core.policy import TtlPolicy
from replicator.core.schema import (
    DEFAULT_TOMBSTONE_RETENTION_HOURS,
    MAX_TOMBSTONE_RETENTION_HOURS,
    MIN_TOMBSTONE_RETENTION_HOURS,
)

COMMON_EPILOG = """\
Tables are given as REGION/TABLE. Each side may use its own --*-profile or --*-role-arn (another
account). --endpoint-url points both sides at a local endpoint (moto server) for testing.
See docs/operations.md for the rules that make each command safe while replication is live."""

CHECK_HELP = """\
Compare the replica with the source: scan both tables in parallel segments, pair items by key,
ignore the replicator's metadata, excluded (--exclude-attribute) and ignored (--ignore-attribute)
attributes, and items whose TTL has passed. Every candidate difference is read again on both sides
with strongly consistent reads after --grace-seconds, so a change still replicating is not reported.
Differences are classified: missing in replica, extra in replica, different, unreplicable.

exit codes: 0 consistent, 1 differences found (or, with --repair, some could not be repaired), 2 error."""

REPAIR_HELP = """\
Run a check, then write the source's current state of every confirmed difference into the replica
with the replicator's compare-and-set rule: a repair never overwrites a newer replicated change
and never resurrects a deleted item. Run `redrive` first when the failure queue holds messages.

Every repaired key is read again afterwards to verify it.

exit codes: 0 everything repaired and verified (or nothing to repair), 1 some keys could not be
repaired or still differ, 2 error."""

BACKFILL_HELP = """\
Copy a source table that already holds data into an empty or partial replica while replication
runs. Start replication FIRST, then backfill. Items the stream already wrote, or deleted, are left
alone. Resumable: --state-file records each segment's position (it holds key values) after every page.

exit codes: 0 finished, 1 finished but some items could not be copied, 2 error or interrupted
(run the same command again to resume)."""

REDRIVE_HELP = """\
Replay the batches named in the replicator's failure queue: re-read each range from the stream
and apply it through the replicator's own conditional writes; a message is deleted only when all
its records were applied. Ranges that aged out of the stream are repaired from the source by a
check and repair of the table (unless --no-repair-aged-out); the JSON report names those keys.

exit codes: 0 every message handled, 1 some messages kept (failed records, unknown messages,
unrepaired aged-out ranges), 2 error."""


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("tables and access")
    group.add_argument("--source", required=True, metavar="REGION/TABLE", help="the source table")
    group.add_argument("--replica", required=True, metavar="REGION/TABLE", help="the replica table")
    group.add_argument("--endpoint-url", metavar="URL", help="a local endpoint for both sides (testing)")
    for side in ("source", "replica"):
        group.add_argument(
            f"--{side}-endpoint-url", metavar="URL", help=f"overrides --endpoint-url for the {side}"
        )
        group.add_argument(f"--{side}-profile", metavar="NAME", help=f"AWS profile for the {side} side")
        group.add_argument(f"--{side}-role-arn", metavar="ARN", help=f"a role to assume for the {side} side")
    group.add_argument(
        "--state-table",
        metavar="TABLE",
        help="the replicator's state table (default: <replica>-replication-state)",
    )
    group.add_argument(
        "--exclude-attribute",
        action="append",
        default=[],
        metavar="NAME",
        help="an attribute the replicator does not copy (mirror EXCLUDE_ATTRIBUTES; repeatable)",
    )
    group.add_argument(
        "--tombstone-retention-hours",
        metavar="HOURS",
        type=_retention_hours,
        default=DEFAULT_TOMBSTONE_RETENTION_HOURS,
        help=f"as the replicator's setting (default {DEFAULT_TOMBSTONE_RETENTION_HOURS}; "
        f"{MIN_TOMBSTONE_RETENTION_HOURS} to "
        f"{MAX_TOMBSTONE_RETENTION_HOURS}: tombstones must outlive the stream's 24 hours)",
    )
    group.add_argument(
        "--retry-seconds",
        metavar="SECONDS",
        type=float,
        default=300.0,
        help="seconds one read or write is retried through throttling before the command fails (default 300)",
    )


def _retention_hours(text: str) -> int:
    low, high = MIN_TOMBSTONE_RETENTION_HOURS, MAX_TOMBSTONE_RETENTION_HOURS
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of hours; got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"must be between {low} and {high} hours (tombstones must outlive the stream's 24 hours, "
            f"or a replayed INSERT could bring a deleted item back); got {value}"
        )
    return value


def _scanning(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scanning")
    group.add_argument(
        "--segments", metavar="N", type=int, default=4, help="parallel scan segments / threads (default 4)"
    )
    group.add_argument(
        "--max-read-units",
        metavar="UNITS",
        type=float,
        default=200.0,
        help="read capacity units per second, per table (default 200; 0 = no limit)",
    )
    group.add_argument(
        "--page-size", metavar="N", type=int, default=1000, help="items per Scan request (default 1000)"
    )
    group.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: on a terminal)",
    )


def _checking(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("comparing")
    group.add_argument(
        "--ignore-attribute",
        action="append",
        default=[],
        metavar="NAME",
        help="a volatile attribute (repeatable)",
    )
    group.add_argument("--ttl-attribute", metavar="NAME", help="default: the source table's TTL setting")
    group.add_argument(
        "--grace-seconds",
        metavar="SECONDS",
        type=float,
        default=5.0,
        help="wait before re-reading candidates (default 5)",
    )
    group.add_argument(
        "--sample", type=float, metavar="FRACTION", help="check a random fraction of the table"
    )
    group.add_argument("--seed", metavar="N", type=int, help="random seed for --sample (repeatable samples)")
    group.add_argument("--json", metavar="PATH", help="write every difference (keys only) as JSON")
    group.add_argument(
        "--attempts",
        metavar="N",
        type=int,
        default=5,
        help="repair attempts per key on conflicts (default 5)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m replicator",
        description="Operate a DynamoDB stream replica: check, repair, backfill, redrive.",
        epilog=COMMON_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    specs: list[tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = [
        ("check", CHECK_HELP, _check_options),
        ("repair", REPAIR_HELP, _repair_options),
        ("backfill", BACKFILL_HELP, _backfill_options),
        ("redrive", REDRIVE_HELP, _redrive_options),
    ]
    for name, text, extra in specs:
        command = sub.add_parser(
            name,
            help=text.splitlines()[0],
            description=text,
            epilog=COMMON_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _common(command)
        _scanning(command)
        extra(command)
    return parser


def _check_options(parser: argparse.ArgumentParser) -> None:
    _checking(parser)
    parser.add_argument(
        "--repair", action="store_true", help="repair the confirmed differences (as `repair`)"
    )


def _repair_options(parser: argparse.ArgumentParser) -> None:
    _checking(parser)
    parser.add_argument(
        "--failure-queue", metavar="URL|NAME", help="warn when this failure queue still holds messages"
    )


def _backfill_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-file",
        metavar="PATH",
        help="progress file, for resuming (default: backfill-<source table>.json)",
    )
    parser.add_argument(
        "--max-write-units",
        metavar="UNITS",
        type=float,
        default=0.0,
        help="replica write units per second (estimated; 0 = no limit)",
    )


def _redrive_options(parser: argparse.ArgumentParser) -> None:
    _checking(parser)
    parser.add_argument("--queue-url", required=True, metavar="URL|NAME", help="the failure queue")
    parser.add_argument(
        "--queue-region",
        metavar="REGION",
        help="the queue's region (default: from the URL, else the source's)",
    )
    parser.add_argument("--max-messages", metavar="N", type=int, help="stop after this many messages")
    parser.add_argument(
        "--wait-seconds",
        metavar="SECONDS",
        type=int,
        default=2,
        help="SQS long-polling wait per receive (default 2)",
    )
    parser.add_argument(
        "--visibility-timeout",
        metavar="SECONDS",
        type=int,
        default=300,
        help="seconds a message is held (default 300)",
    )
    parser.add_argument(
        "--ttl-deletes",
        choices=[policy.value for policy in TtlPolicy],
        default=TtlPolicy.REPLICATE.value,
        help="as the replicator's TTL_DELETES",
    )
    parser.add_argument(
        "--repair-aged-out",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check and repair the table when a range aged out of the stream (default on)",
    )


COMMANDS: dict[str, Callable[[argparse.Namespace, Runtime], int]] = {
    "check": commands.check,
    "repair": commands.repair,
    "backfill": commands.backfill,
    "redrive": commands.redrive,
}


def _validate(args: argparse.Namespace) -> None:
    if not 1 <= args.segments <= 1000:
        raise CliError(f"--segments must be between 1 and 1000; got {args.segments}")


def main(argv: Sequence[str] | None = None, *, runtime: Runtime | None = None) -> int:
    rt = runtime or Runtime()
    args = build_parser().parse_args(argv)
    try:
        _validate(args)
        return COMMANDS[args.command](args, rt)
    except CliError as exc:
        rt.stderr.write(f"error: {exc}\n")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        rt.stderr.write(f"error: {exc.operation_name} failed: {error.get('Code', 'unknown')}\n")
    except BotoCoreError as exc:
        rt.stderr.write(f"error: {type(exc).__name__}: {exc}\n")
    except OSError as exc:
        where = f" {exc.filename!r}" if exc.filename else ""
        rt.stderr.write(f"error: cannot use the file{where}: {exc.strerror or exc}\n")
    except KeyboardInterrupt:
        rt.stderr.write("error: interrupted; a backfill resumes from its --state-file when run again\n")
    return ERROR


if __name__ == "__main__":
    sys.exit(main())
