"""The export check's options (``check --from-exports``), validated before any call. Pure.

Where the two exports come from: both given (``--source-export``, ``--replica-export``: an export
ARN, an ``s3://`` URI of an export's folder, or a local copy of one), or both requested into
``--export-to s3://bucket/prefix``, the source at ``--export-time`` T and the replica at
T + ``--export-margin-seconds``. Where the comparison runs: ``--engine local`` (PySpark in this
process) or ``--engine emr-serverless`` (the deployed export-check stack's application).
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replicator.permissions import EXPORTS_PREFIX

DEFAULT_MARGIN_SECONDS = 300.0
"""The replica is exported this long after the source: longer than the replication lag while the
lag alarm is quiet (its threshold, ``alarmLagP99Ms``, is far below this), so every change the
source held at T has landed in the replica by T + margin. A longer margin only adds in-flight keys
to re-read (about the table's write rate times the margin, for keys written in between)."""
DEFAULT_EXPORT_TIMEOUT_SECONDS = 4 * 3600.0
DEFAULT_JOB_TIMEOUT_SECONDS = 6 * 3600.0
PITR_WINDOW_DAYS = 35
"""An export's time must lie in the table's point-in-time recovery window: at most 35 days back
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.HowItWorks.html)."""

_EXPORT_ARN = re.compile(
    r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}/export/[\w.-]+$"
)
_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/.*)?$")


class Engine(enum.StrEnum):
    LOCAL = "local"
    EMR_SERVERLESS = "emr-serverless"


class RefKind(enum.Enum):
    ARN = "arn"
    S3 = "s3"
    PATH = "path"


@dataclass(frozen=True, slots=True)
class ExportRef:
    """An existing export as the operator named it."""

    kind: RefKind
    value: str

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class S3Uri:
    bucket: str
    prefix: str  # without leading or trailing "/"; may be empty

    @classmethod
    def parse(cls, text: str) -> S3Uri:
        match = _S3_URI.match(text)
        if match is None:
            raise ValueError(f"must be an s3://BUCKET[/PREFIX] URI; got {text!r}")
        return cls(match.group(1), (match.group(2) or "").strip("/"))

    def join(self, *parts: str) -> S3Uri:
        tail = "/".join(p.strip("/") for p in parts if p.strip("/"))
        return S3Uri(self.bucket, f"{self.prefix}/{tail}".strip("/") if tail else self.prefix)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


@dataclass(frozen=True, slots=True)
class EmrOptions:
    application_id: str
    job_role_arn: str
    output: S3Uri | None
    code: S3Uri | None
    python_archive: str | None
    timeout_seconds: float


@dataclass(frozen=True, slots=True)
class ExportOptions:
    source_export: ExportRef | None
    replica_export: ExportRef | None
    export_to: S3Uri | None
    export_time: float | None
    """Epoch seconds of the source's export; None: now less the margin."""
    margin_seconds: float
    export_timeout_seconds: float
    engine: Engine
    work_dir: Path | None
    emr: EmrOptions | None

    @property
    def requests_exports(self) -> bool:
        return self.export_to is not None


def export_ref(text: str) -> ExportRef:
    if text.startswith("arn:"):
        if not _EXPORT_ARN.match(text):
            raise argparse.ArgumentTypeError(
                f"must be an export ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/export/ID); got {text!r}"
            )
        return ExportRef(RefKind.ARN, text)
    if text.startswith("s3://"):
        try:
            S3Uri.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return ExportRef(RefKind.S3, text.rstrip("/"))
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither an export ARN, an s3:// URI nor a folder that exists"
        )
    return ExportRef(RefKind.PATH, str(path))


def s3_uri(text: str) -> S3Uri:
    try:
        return S3Uri.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def utc_time(text: str) -> float:
    """An ISO 8601 time (UTC unless it names a zone) or epoch seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an ISO 8601 time such as 2026-12-01T10:00:00Z, or epoch seconds; got {text!r}"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def _seconds(low: float) -> Any:
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number of seconds; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low:g} seconds; got {text!r}")
        return value

    return convert


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "from exports (--from-exports: compare point-in-time exports on Spark instead of scanning)"
    )
    add = group.add_argument
    add("--from-exports", action="store_true", help="compare exports of both tables, not live scans")
    add("--source-export", type=export_ref, metavar="ARN|S3URI|DIR", help="an existing export of the source")
    add(
        "--replica-export", type=export_ref, metavar="ARN|S3URI|DIR", help="an existing export of the replica"
    )
    add(
        "--export-to",
        type=s3_uri,
        metavar="S3URI",
        help="request new exports of both tables into this bucket and prefix (the tables need PITR)",
    )
    add(
        "--export-time",
        type=utc_time,
        metavar="TIME",
        help="the source's export time, ISO 8601 or epoch seconds (default: now less the margin)",
    )
    add(
        "--export-margin-seconds",
        dest="export_margin_seconds",
        type=_seconds(0),
        default=DEFAULT_MARGIN_SECONDS,
        metavar="SECONDS",
        help=f"the replica is exported this long after the source (default {DEFAULT_MARGIN_SECONDS:g}: "
        "more than the replication lag)",
    )
    add(
        "--export-timeout-seconds",
        type=_seconds(1),
        default=DEFAULT_EXPORT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="give up waiting for a requested export after this long "
        f"(default {DEFAULT_EXPORT_TIMEOUT_SECONDS:g})",
    )
    add(
        "--engine",
        type=Engine,
        choices=list(Engine),
        default=Engine.LOCAL,
        help="where the Spark comparison runs: local (PySpark here; pip install '.[spark]', Java 17) or "
        "emr-serverless (the export-check stack's application)",
    )
    add(
        "--work-dir",
        type=Path,
        metavar="DIR",
        help="local engine: where S3 exports are copied and results written",
    )
    add("--emr-application-id", metavar="ID", help="emr-serverless: the application (stack output)")
    add("--emr-job-role-arn", metavar="ARN", help="emr-serverless: the job's runtime role (stack output)")
    add("--emr-output", type=s3_uri, metavar="S3URI", help="emr-serverless: where the job writes its results")
    add("--emr-code", type=s3_uri, metavar="S3URI", help="emr-serverless: where the job's code is uploaded")
    add(
        "--python-archive",
        metavar="S3URI",
        help="emr-serverless: a packed Python 3.11 environment (docs/deployment.md)",
    )
    add(
        "--job-timeout-seconds",
        type=_seconds(1),
        default=DEFAULT_JOB_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="emr-serverless: give up waiting for the job after this long "
        f"(default {DEFAULT_JOB_TIMEOUT_SECONDS:g})",
    )


_EXPORT_ONLY = (
    "source_export",
    "replica_export",
    "export_to",
    "export_time",
    "work_dir",
    "emr_application_id",
    "emr_job_role_arn",
    "emr_output",
    "emr_code",
    "python_archive",
)


def parse_options(
    parser: argparse.ArgumentParser, args: argparse.Namespace, now: float
) -> ExportOptions | None:
    """The export options of a ``check``, or None without --from-exports; a contradiction exits 2."""
    if not getattr(args, "from_exports", False):
        given = [
            f"--{name.replace('_', '-')}" for name in _EXPORT_ONLY if getattr(args, name, None) is not None
        ]
        if given or getattr(args, "engine", Engine.LOCAL) is not Engine.LOCAL:
            parser.error(f"{', '.join(given) or '--engine'} needs --from-exports")
        return None
    if args.sample is not None:
        parser.error("--sample cannot be used with --from-exports: an export holds the whole table")
    both = args.source_export is not None and args.replica_export is not None
    neither = args.source_export is None and args.replica_export is None
    if not (both or (neither and args.export_to is not None)):
        parser.error(
            "--from-exports needs either both --source-export and --replica-export, "
            "or --export-to S3URI to request new exports of both tables"
        )
    if both and (args.export_to is not None or args.export_time is not None):
        parser.error(
            "--export-to and --export-time request new exports: not with --source-export/--replica-export"
        )
    if args.export_time is not None:
        latest = now - args.export_margin_seconds
        if args.export_time > latest:
            parser.error(
                "--export-time plus --export-margin-seconds must not lie in the future "
                "(the replica's export time would)"
            )
        if args.export_time < now - PITR_WINDOW_DAYS * 86400:
            parser.error(
                f"--export-time lies outside the {PITR_WINDOW_DAYS}-day point-in-time recovery window"
            )
    return ExportOptions(
        source_export=args.source_export,
        replica_export=args.replica_export,
        export_to=args.export_to,
        export_time=args.export_time,
        margin_seconds=args.export_margin_seconds,
        export_timeout_seconds=args.export_timeout_seconds,
        engine=args.engine,
        work_dir=args.work_dir,
        emr=_emr(parser, args),
    )


def _emr(parser: argparse.ArgumentParser, args: argparse.Namespace) -> EmrOptions | None:
    emr_given = [
        name
        for name in ("emr_application_id", "emr_job_role_arn", "emr_output", "emr_code", "python_archive")
        if getattr(args, name) is not None
    ]
    if args.engine is not Engine.EMR_SERVERLESS:
        if emr_given:
            parser.error(f"--{emr_given[0].replace('_', '-')} is for --engine emr-serverless")
        return None
    if args.emr_application_id is None or args.emr_job_role_arn is None:
        parser.error(
            "--engine emr-serverless needs --emr-application-id and --emr-job-role-arn "
            "(outputs of the export-check stack: make synth ARGS='-c exportCheck=true')"
        )
    local = [
        ref
        for ref in (args.source_export, args.replica_export)
        if ref is not None and ref.kind is RefKind.PATH
    ]
    if local:
        parser.error(f"--engine emr-serverless reads exports from S3; {local[0]} is a local folder")
    if args.export_to is not None and not f"{args.export_to.prefix}/".startswith(EXPORTS_PREFIX):
        parser.error(
            f"--engine emr-serverless: request the exports under s3://{args.export_to.bucket}/{EXPORTS_PREFIX}"
            "..., the only prefix the export-check stack's job role reads"
        )
    if args.emr_output is None and args.export_to is None:
        parser.error(
            "--engine emr-serverless needs --emr-output S3URI (or --export-to, whose bucket it then uses)"
        )
    return EmrOptions(
        application_id=args.emr_application_id,
        job_role_arn=args.emr_job_role_arn,
        output=args.emr_output,
        code=args.emr_code,
        python_archive=args.python_archive,
        timeout_seconds=args.job_timeout_seconds,
    )
