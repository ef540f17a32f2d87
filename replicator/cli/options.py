"""Every option of the operator CLI, and the one place they are validated.

:func:`parse` turns the command line into a frozen :class:`Options` before any AWS call, any read
and any write: numbers must be in range, endpoints and ARNs well formed, tables REGION/TABLE, and
the files a command will write must be writable (a report path that is a directory, or in a folder
that does not exist, is refused up front rather than after a whole scan). A bad value ends the
command with exit code 2 and one line naming the option and what was typed.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from ddbstream.names import is_endpoint_url, is_region, is_role_arn, is_table_name
from replicator.cli.exports import options as export_options
from replicator.cli.exports.options import ExportOptions
from replicator.core.policy import TTL_POLICY_CHOICES, TtlPolicy
from replicator.core.schema import (
    DEFAULT_TOMBSTONE_RETENTION_HOURS,
    MAX_TOMBSTONE_RETENTION_HOURS,
    MIN_TOMBSTONE_RETENTION_HOURS,
)

COMMANDS = ("check", "repair", "backfill", "redrive", "doctor")

LOCAL_CREDENTIALS = "export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
"""Any credentials work against a local endpoint (moto); a shell line that sets some."""

COMMON_EPILOG = f"""\
Tables are given as REGION/TABLE. Each side may use its own --*-profile or --*-role-arn (another
account). --endpoint-url points both sides at a local endpoint (moto server) for testing; any
credentials work there ({LOCAL_CREDENTIALS}).
See docs/operations.md for the rules that make each command safe while replication is live."""

SUMMARIES = {
    "check": "Compare the replica with the source and report every confirmed difference.",
    "repair": "Check, then write the source's current state of every difference into the replica.",
    "backfill": "Copy what the source held before replication started into the replica (resumable).",
    "redrive": "Replay the batches named in the replicator's failure queue.",
    "doctor": "Preflight: check a replication setup, read-only, before go-live and after each deploy.",
}

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
its records were applied, and kept otherwise. Ranges that aged out of the stream are repaired from
the source by a check and repair of the table (unless --no-repair-aged-out); the JSON report names
those keys.

Redrive reads the stream. A stream shard serves at most two readers and the deployed mappings
(replicator, usage metrics) take both, so redrive refuses to start as a third one unless
--allow-third-reader is given; then it paces its GetRecords calls (docs/operations.md).

exit codes: 0 every message handled, 1 some messages kept (failed records, unknown messages,
unrepaired aged-out ranges), 2 error (or refused as a third reader)."""

DOCTOR_HELP = """\
A read-only preflight of a replication setup: run it before go-live and after every deploy. Each
check prints PASS, WARN, FAIL or SKIP with its reason, and the fix for what did not pass:

  stream                the source's stream is on, with NEW_AND_OLD_IMAGES
  key-schema            the replica has the source's key schema
  replica-table         the replica table exists
  state-table           the state table exists, with TTL on expires_at
  ttl-policy            the source's and the replica's TTL agree with --ttl-deletes (--ttl-attribute)
  pitr                  point-in-time recovery on the source and the replica (and the state table)
  stream-readers        at most 2 event source mappings read the stream (1 for a global table)
  replicator-mapping    the replicator's mapping is enabled, reports batch item failures, has a
                        failure destination
  shard-lineage         every child shard starts above its parent's end (DescribeStream)
  failure-queue         the failure queue is empty (its depth otherwise)
  function-environment  the replicator's environment names these tables and settings
  clock-skew            this machine's clock against the service's Date header
  iam                   with --deep: IAM's policy simulator allows the replicator role's actions

The replicator function is the one among the stream's mappings whose handler is the replicator's
(or --function); its failure queue is its mapping's on-failure destination (or --failure-queue).
The doctor reads descriptions only, never an item. A fact it may not read (AccessDenied, a call the
endpoint does not implement) is a WARN naming the permission it needs.

exit codes: 0 no check failed (warnings allowed, unless --strict), 1 a check failed, 2 could not
run (a bad option, no credentials, an endpoint that does not answer)."""

HELP = {
    "check": CHECK_HELP,
    "repair": REPAIR_HELP,
    "backfill": BACKFILL_HELP,
    "redrive": REDRIVE_HELP,
    "doctor": DOCTOR_HELP,
}

# SQS: long polling waits at most 20 s; a message is hidden for at most 12 hours
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
MAX_WAIT_SECONDS = 20
MAX_VISIBILITY_TIMEOUT = 12 * 3600


@dataclass(frozen=True, slots=True)
class TableRef:
    region: str
    table: str

    def __str__(self) -> str:
        return f"{self.region}/{self.table}"


@dataclass(frozen=True, slots=True)
class SideOptions:
    """How to reach one table: its endpoint, profile and role, each as the operator gave them."""

    ref: TableRef
    endpoint_url: str | None
    endpoint_option: str
    """The option the endpoint came from (``--endpoint-url`` or ``--source-endpoint-url``...)."""
    profile: str | None
    role_arn: str | None


@dataclass(frozen=True, slots=True)
class Options:
    """A validated command line. Fields a command does not take keep their defaults."""

    command: str
    source: SideOptions
    replica: SideOptions
    state_table: str | None
    exclude_attributes: frozenset[str]
    tombstone_retention_hours: int
    retry_seconds: float
    segments: int
    max_read_units: float | None
    """Read units per second per table; None means no limit."""
    page_size: int
    progress: bool | None
    debug: bool
    # comparing (check, repair, redrive)
    ignore_attributes: frozenset[str] = frozenset()
    ttl_attribute: str | None = None
    grace_seconds: float = 5.0
    sample: float | None = None
    seed: int | None = None
    json_path: Path | None = None
    attempts: int = 5
    repair: bool = False
    failure_queue: str | None = None
    # backfill
    state_file: Path | None = None
    max_write_units: float | None = None
    # redrive
    queue: str | None = None
    queue_region: str | None = None
    max_messages: int | None = None
    wait_seconds: int = 2
    visibility_timeout: int = 300
    ttl_deletes: TtlPolicy = TtlPolicy.REPLICATE
    repair_aged_out: bool = True
    allow_third_reader: bool = False
    # check --from-exports (replicator.cli.exports.options), repair --from-report
    exports: ExportOptions | None = None
    from_report: Path | None = None
    # doctor
    function: str | None = None
    deep: bool = False
    strict: bool = False

    @property
    def writes(self) -> bool:
        """Whether the command writes to the replica (and so needs its state table)."""
        return self.command not in ("check", "doctor") or self.repair


_FIELDS = frozenset(field.name for field in fields(Options))
DEFAULTS: dict[str, Any] = {
    field.name: field.default for field in fields(Options) if field.default is not MISSING
}
"""The defaults of the options some commands do not take: the parser's defaults are these too."""


# -- converters: each names the rule it enforces; argparse adds the option and exits 2 ------------------


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number; got {text!r}") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
    return value


def whole_between(low: int, high: int | None = None, why: str = "") -> Callable[[str], int]:
    def convert(text: str) -> int:
        value = _whole(text)
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}{why}; got {value}")
        return value

    return convert


def number_at_least(low: float, *, above: bool = False, why: str = "") -> Callable[[str], float]:
    def convert(text: str) -> float:
        value = _number(text)
        if value < low or (above and value == low):
            bound = f"greater than {low:g}" if above else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}{why}; got {text}")
        return value

    return convert


def fraction(text: str) -> float:
    value = _number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction greater than 0 and at most 1; got {text}")
    return value


def table_ref(text: str) -> TableRef:
    region, _, table = text.partition("/")
    if not is_region(region) or not is_table_name(table):
        raise argparse.ArgumentTypeError(f"must look like REGION/TABLE (e.g. us-east-1/Users); got {text!r}")
    return TableRef(region, table)


def endpoint_url(text: str) -> str:
    if not is_endpoint_url(text):
        raise argparse.ArgumentTypeError(
            f"must be an http:// or https:// URL such as http://127.0.0.1:4566; got {text!r}"
        )
    return text


def role_arn(text: str) -> str:
    if not is_role_arn(text):
        raise argparse.ArgumentTypeError(f"must look like arn:aws:iam::123456789012:role/NAME; got {text!r}")
    return text


def region(text: str) -> str:
    if not is_region(text):
        raise argparse.ArgumentTypeError(f"must be an AWS region such as eu-west-1; got {text!r}")
    return text


def table_name(text: str) -> str:
    if not is_table_name(text):
        raise argparse.ArgumentTypeError(
            f"must be a DynamoDB table name (3-255 letters, digits, '_', '-', '.'); got {text!r}"
        )
    return text


def ttl_policy(text: str) -> TtlPolicy:
    try:
        return TtlPolicy(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be one of {TTL_POLICY_CHOICES}; got {text!r}") from None


def function_name(text: str) -> str:
    if not text.strip() or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"must be a Lambda function name or ARN; got {text!r}")
    return text


def attribute_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must name an attribute; got an empty name")
    return text


def writable_file(text: str) -> Path:
    """A file the command will (over)write: not a directory, in a folder that exists and is writable."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is a directory; give a file name, e.g. {text}/report.json"
        )
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder of {text!r} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write into the folder of {text!r}: permission denied")
    if path.exists() and not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot overwrite {text!r}: permission denied")
    return path


def readable_file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file that exists")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read {text!r}: permission denied")
    return path


# -- the parser --------------------------------------------------------------------------------------


def _retry_seconds(add: Callable[..., Any]) -> None:
    add(
        "--retry-seconds",
        metavar="SECONDS",
        type=number_at_least(0, above=True),
        default=300.0,
        help="seconds one read or write is retried through throttling before the command fails (default 300)",
    )


def _common(parser: argparse.ArgumentParser, *, retries: bool = True) -> None:
    group = parser.add_argument_group("tables and access")
    add = group.add_argument
    add("--source", required=True, type=table_ref, metavar="REGION/TABLE", help="the source table")
    add("--replica", required=True, type=table_ref, metavar="REGION/TABLE", help="the replica table")
    add("--endpoint-url", type=endpoint_url, metavar="URL", help="a local endpoint for both sides (testing)")
    for side in ("source", "replica"):
        add(
            f"--{side}-endpoint-url",
            type=endpoint_url,
            metavar="URL",
            help=f"overrides --endpoint-url for the {side}",
        )
        add(f"--{side}-profile", metavar="NAME", help=f"AWS profile for the {side} side")
        add(f"--{side}-role-arn", type=role_arn, metavar="ARN", help=f"a role to assume for the {side} side")
    add(
        "--state-table",
        type=table_name,
        metavar="TABLE",
        help="the replicator's state table (default: <replica>-replication-state)",
    )
    add(
        "--exclude-attribute",
        dest="exclude_attributes",
        action="append",
        default=[],
        type=attribute_name,
        metavar="NAME",
        help="an attribute the replicator does not copy (mirror EXCLUDE_ATTRIBUTES; repeatable)",
    )
    low, high = MIN_TOMBSTONE_RETENTION_HOURS, MAX_TOMBSTONE_RETENTION_HOURS
    add(
        "--tombstone-retention-hours",
        metavar="HOURS",
        type=whole_between(
            low,
            high,
            " hours (tombstones must outlive the stream's 24 hours, or a replayed INSERT could bring a "
            "deleted item back)",
        ),
        default=DEFAULT_TOMBSTONE_RETENTION_HOURS,
        help=f"as the replicator's setting (default {DEFAULT_TOMBSTONE_RETENTION_HOURS}; {low} to {high}: "
        "tombstones must outlive the stream's 24 hours)",
    )
    if retries:  # the doctor's few describe calls use botocore's standard retries
        _retry_seconds(add)
    add("--debug", action="store_true", help="on an unexpected error, show the traceback")


def _scanning(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scanning")
    add = group.add_argument
    add(
        "--segments",
        metavar="N",
        type=whole_between(1, 1000),
        default=4,
        help="parallel scan segments / threads (default 4, at most 1000)",
    )
    add(
        "--max-read-units",
        metavar="UNITS",
        type=number_at_least(0, why=" (0 means no limit)"),
        default=200.0,
        help="read capacity units per second, per table (default 200; 0 = no limit)",
    )
    add(
        "--page-size",
        metavar="N",
        type=whole_between(1),
        default=1000,
        help="items per Scan request (default 1000; a page also ends at 1 MB)",
    )
    add(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: on a terminal)",
    )


def _ttl_attribute(add: Callable[..., Any], help: str) -> None:
    add("--ttl-attribute", type=attribute_name, metavar="NAME", help=help)


def _json_report(add: Callable[..., Any], help: str) -> None:
    add("--json", dest="json_path", type=writable_file, metavar="PATH", help=help)


def _failure_queue(add: Callable[..., Any], help: str) -> None:
    add("--failure-queue", metavar="URL|NAME", help=help)


def _ttl_deletes(add: Callable[..., Any], help: str) -> None:
    add(
        "--ttl-deletes",
        type=ttl_policy,
        metavar="{" + ",".join(TtlPolicy) + "}",
        default=DEFAULTS["ttl_deletes"],
        help=help,
    )


def _comparing(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("comparing")
    add = group.add_argument
    add(
        "--ignore-attribute",
        dest="ignore_attributes",
        action="append",
        default=[],
        type=attribute_name,
        metavar="NAME",
        help="a volatile attribute (repeatable)",
    )
    _ttl_attribute(add, "default: the source table's TTL setting")
    add(
        "--grace-seconds",
        metavar="SECONDS",
        type=number_at_least(0),
        default=DEFAULTS["grace_seconds"],
        help=f"wait before re-reading candidates (default {DEFAULTS['grace_seconds']:g})",
    )
    add("--sample", type=fraction, metavar="FRACTION", help="check a random fraction of the table, in (0, 1]")
    add("--seed", metavar="N", type=_whole, help="random seed for --sample (repeatable samples)")
    _json_report(add, "write every difference (keys only) as JSON")
    add(
        "--attempts",
        metavar="N",
        type=whole_between(1, 100),
        default=DEFAULTS["attempts"],
        help=f"repair attempts per key on conflicts (default {DEFAULTS['attempts']})",
    )


def _check_options(parser: argparse.ArgumentParser) -> None:
    _comparing(parser)
    parser.add_argument(
        "--repair", action="store_true", help="repair the confirmed differences (as `repair`)"
    )
    export_options.add_options(parser)


def _repair_options(parser: argparse.ArgumentParser) -> None:
    _comparing(parser)
    parser.add_argument(
        "--from-report",
        type=readable_file,
        metavar="PATH",
        help="repair the keys of a check's --json report (from a scan or an export check) instead of "
        "checking the whole table first",
    )
    _failure_queue(parser.add_argument, "warn when this failure queue still holds messages")


def _backfill_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-file",
        type=writable_file,
        metavar="PATH",
        help="progress file, for resuming (default: backfill-<source table>.json)",
    )
    parser.add_argument(
        "--max-write-units",
        metavar="UNITS",
        type=number_at_least(0, why=" (0 means no limit)"),
        default=0.0,
        help="replica write units per second (estimated; 0 = no limit)",
    )


def _redrive_options(parser: argparse.ArgumentParser) -> None:
    _comparing(parser)
    add = parser.add_argument
    add("--queue-url", dest="queue", required=True, metavar="URL|NAME", help="the failure queue")
    add(
        "--queue-region",
        type=region,
        metavar="REGION",
        help="the queue's region (default: from the URL, else the source's)",
    )
    add("--max-messages", metavar="N", type=whole_between(1), help="stop after this many messages")
    add(
        "--wait-seconds",
        metavar="SECONDS",
        type=whole_between(0, MAX_WAIT_SECONDS),
        default=DEFAULTS["wait_seconds"],
        help=f"SQS long-polling wait per receive (default {DEFAULTS['wait_seconds']}, "
        f"at most {MAX_WAIT_SECONDS})",
    )
    add(
        "--visibility-timeout",
        metavar="SECONDS",
        type=whole_between(0, MAX_VISIBILITY_TIMEOUT),
        default=DEFAULTS["visibility_timeout"],
        help=f"seconds a message is held (default {DEFAULTS['visibility_timeout']})",
    )
    _ttl_deletes(add, "as the replicator's TTL_DELETES")
    add(
        "--repair-aged-out",
        action=argparse.BooleanOptionalAction,
        default=DEFAULTS["repair_aged_out"],
        help="check and repair the table when a range aged out of the stream (default on)",
    )
    add(
        "--allow-third-reader",
        "--i-know-about-the-two-reader-limit",
        dest="allow_third_reader",
        action="store_true",
        help="read the stream even when two event source mappings already do (a shard serves two "
        "readers; a third throttles them all): GetRecords is then paced",
    )


def _doctor_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the setup as deployed (defaults: as the CDK app deploys it)")
    add = group.add_argument
    _ttl_deletes(add, "the replicator's TTL_DELETES (cdk.json ttlDeletes; default replicate)")
    _ttl_attribute(
        add, "the source's TTL attribute as deployed (cdk.json ttlAttribute; default: not checked)"
    )
    add(
        "--function",
        type=function_name,
        metavar="NAME|ARN",
        help="the replicator function (default: found among the functions of the stream's mappings)",
    )
    _failure_queue(add, "the replicator's failure queue (default: its mapping's on-failure destination)")
    group = parser.add_argument_group("the run")
    add = group.add_argument
    add("--deep", action="store_true", help="also simulate the replicator role's IAM permissions")
    add("--strict", action="store_true", help="warnings fail too (exit 1)")
    _json_report(add, "write every finding as JSON (no item is ever read)")


_EXTRA: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "check": _check_options,
    "repair": _repair_options,
    "backfill": _backfill_options,
    "redrive": _redrive_options,
    "doctor": _doctor_options,
}


def _not_scanning() -> dict[str, Any]:
    """The doctor scans nothing: the scanning options' defaults, read from their own definitions."""
    scratch = argparse.ArgumentParser(add_help=False)
    _scanning(scratch)
    _retry_seconds(scratch.add_argument)
    return vars(scratch.parse_args([]))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m replicator",
        description="Operate a DynamoDB stream replica: check, repair, backfill, redrive; doctor checks "
        "a setup.",
        epilog=COMMON_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        command = sub.add_parser(
            name,
            help=SUMMARIES[name],
            description=HELP[name],
            epilog=COMMON_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        scans = name != "doctor"
        _common(command, retries=scans)
        if scans:
            _scanning(command)
        else:
            command.set_defaults(**_not_scanning())
        _EXTRA[name](command)
    return parser


def _side(args: argparse.Namespace, side: str) -> SideOptions:
    own = getattr(args, f"{side}_endpoint_url")
    return SideOptions(
        ref=getattr(args, side),
        endpoint_url=own or args.endpoint_url,
        endpoint_option=f"--{side}-endpoint-url" if own else "--endpoint-url",
        profile=getattr(args, f"{side}_profile"),
        role_arn=getattr(args, f"{side}_role_arn"),
    )


def _refuse(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Rules between options: argparse exits 2 with the usage line and our message."""
    if args.command == "redrive" and args.sample is not None:
        parser.error("--sample cannot be used with redrive: an aged-out range may touch any key")
    if args.command == "redrive" and not args.queue.strip():
        parser.error("argument --queue-url: must name the failure queue (its URL or its name)")
    excluded = set(args.exclude_attributes)
    ignored = set(getattr(args, "ignore_attributes", []))
    both = sorted(excluded & ignored)
    if both:
        parser.error(f"{', '.join(both)} is given both to --exclude-attribute and to --ignore-attribute")


def parse(argv: Sequence[str] | None = None) -> Options:
    """The validated options of one command line; a bad one exits 2 with a message naming it."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _refuse(parser, args)
    # Namespace names are the field names; what a command does not take keeps the field's default.
    given: dict[str, Any] = {name: value for name, value in vars(args).items() if name in _FIELDS}
    for unlimited in ("max_read_units", "max_write_units"):  # 0 means no limit
        if unlimited in given:
            given[unlimited] = given[unlimited] or None
    given["source"], given["replica"] = _side(args, "source"), _side(args, "replica")
    given["exclude_attributes"] = frozenset(args.exclude_attributes)
    given["ignore_attributes"] = frozenset(given.get("ignore_attributes", ()))
    if args.command == "check":
        given["exports"] = export_options.parse_options(parser, args, time.time())
    return Options(**given)
