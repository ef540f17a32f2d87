"""Finding, requesting and fetching the two exports the export check compares.

An export is named by its ARN (DescribeExport says where it is), by the ``s3://`` URI of its folder,
or by a local folder holding a copy. Its *root* is the folder of its ``manifest-summary.json``:
``<S3Prefix>/AWSDynamoDB/<ExportId>/`` in AWS's layout
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html).

Requested exports use ExportTableToPointInTime with a client token derived from the table and the
export time, so running the same check again within 8 hours finds the same export instead of
paying for another (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ExportTableToPointInTime.html).
Nothing here reads an item: only manifests, and data files copied byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from replicator.cli.errors import CliError, UsageError
from replicator.cli.exports.options import ExportRef, RefKind, S3Uri
from replicator.cli.exports.results import iso_utc
from replicator.cli.exports.s3 import object_exists
from replicator.exports.layout import (
    DYNAMODB_JSON,
    FILES_NAME,
    FULL_EXPORT,
    SUMMARY_NAME,
    ExportSummary,
    data_path,
    parse_manifest_files,
    parse_summary,
)


class ExportProblem(CliError):
    """An export failed, is not usable for a check, or could not be found or read."""


@dataclass(frozen=True, slots=True)
class ExportRoot:
    """The folder of an export's manifests: an ``s3://`` URI or a local path."""

    location: str
    arn: str | None = None

    @property
    def s3(self) -> S3Uri | None:
        return S3Uri.parse(self.location) if self.location.startswith("s3://") else None

    def __str__(self) -> str:
        return self.location


def export_id(arn: str) -> str:
    return arn.rsplit("/export/", 1)[-1]


def root_of(bucket: str, prefix: str | None, arn: str) -> ExportRoot:
    """Where AWS writes an export: ``s3://<bucket>/<prefix>/AWSDynamoDB/<ExportId>``."""
    return ExportRoot(str(S3Uri(bucket, (prefix or "").strip("/")).join("AWSDynamoDB", export_id(arn))), arn)


@dataclass
class Exports:
    """Export calls for one side (its DynamoDB client) and reads of export files (an S3 client)."""

    dynamodb: Any
    s3: Any
    say: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    poll_seconds: float = 30.0

    # -- requesting and describing --------------------------------------------------------------

    def request(self, table: str, export_time: float, dest: S3Uri) -> str:
        """Ask for a full export of ``table`` as of ``export_time``; its ARN."""
        table_arn = self.dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
        token = hashlib.sha256(f"{table_arn}@{export_time:.0f}@{dest}".encode()).hexdigest()[:32]
        try:
            response = self.dynamodb.export_table_to_point_in_time(
                TableArn=table_arn,
                ExportTime=dt.datetime.fromtimestamp(export_time, dt.UTC),
                ClientToken=token,
                S3Bucket=dest.bucket,
                S3Prefix=dest.prefix,
                ExportFormat=DYNAMODB_JSON,
                ExportType=FULL_EXPORT,
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            if code == "PointInTimeRecoveryUnavailableException":
                raise ExportProblem(
                    f"{table} cannot be exported: point-in-time recovery is off "
                    "(turn it on; the CDK app does)"
                ) from None
            if code == "InvalidExportTimeException":
                raise ExportProblem(
                    f"{table} cannot be exported as of {iso_utc(export_time)}: the time lies outside its "
                    "point-in-time recovery window"
                ) from None
            raise
        arn: str = response["ExportDescription"]["ExportArn"]
        self.say(f"requested an export of {table} as of {iso_utc(export_time)}: {arn}")
        return arn

    def completed(self, arn: str, *, timeout_seconds: float) -> ExportRoot:
        """Wait until the export is COMPLETED (progress on the way); where it is."""
        deadline = self.clock() + timeout_seconds
        last = ""
        while True:
            described = self.dynamodb.describe_export(ExportArn=arn)["ExportDescription"]
            status = described.get("ExportStatus", "UNKNOWN")
            if status == "COMPLETED":
                return self._usable(arn, described)
            if status == "FAILED":
                raise ExportProblem(
                    f"the export {arn} failed: {described.get('FailureCode', 'no code')}: "
                    f"{described.get('FailureMessage', 'no message')}"
                )
            if status != last:
                self.say(f"export {export_id(arn)}: {status.lower().replace('_', ' ')}")
                last = status
            if self.clock() >= deadline:
                raise ExportProblem(
                    f"the export {arn} was still {status} after {timeout_seconds:g} s "
                    "(--export-timeout-seconds); run the check again with --source-export/--replica-export "
                    "naming it once it has completed"
                )
            self.sleep(self.poll_seconds)

    def _usable(self, arn: str, described: dict[str, Any]) -> ExportRoot:
        if "/export/" not in arn:  # the layout names the folder by the ARN's export id
            raise ExportProblem(
                f"the endpoint described an export as {arn!r}, which is not an export ARN "
                "(…:table/TABLE/export/ID); name the export's folder with --source-export/--replica-export"
            )
        if described.get("ExportFormat", DYNAMODB_JSON) != DYNAMODB_JSON:
            raise ExportProblem(
                f"the export {arn} is in {described['ExportFormat']}; the check reads {DYNAMODB_JSON}"
            )
        if described.get("ExportType", FULL_EXPORT) != FULL_EXPORT:
            raise ExportProblem(f"the export {arn} is incremental; the check compares full exports")
        return root_of(described["S3Bucket"], described.get("S3Prefix"), arn)

    def locate(self, ref: ExportRef, *, timeout_seconds: float) -> ExportRoot:
        """The root of an export the operator named."""
        if ref.kind is RefKind.ARN:
            return self.completed(ref.value, timeout_seconds=timeout_seconds)
        if ref.kind is RefKind.PATH:
            return ExportRoot(str(_local_root(Path(ref.value))))
        return self._s3_root(S3Uri.parse(ref.value))

    def _s3_root(self, uri: S3Uri) -> ExportRoot:
        if uri.prefix.endswith(SUMMARY_NAME):
            return ExportRoot(str(S3Uri(uri.bucket, uri.prefix[: -len(SUMMARY_NAME)].strip("/"))))
        manifest = uri.join(SUMMARY_NAME)
        if object_exists(self.s3, manifest.bucket, manifest.prefix):
            return ExportRoot(str(uri))
        listed = self.s3.list_objects_v2(
            Bucket=uri.bucket, Prefix=f"{uri.join('AWSDynamoDB').prefix}/", Delimiter="/"
        )
        found = [p["Prefix"].rstrip("/") for p in listed.get("CommonPrefixes", [])]
        if len(found) == 1:
            return ExportRoot(str(S3Uri(uri.bucket, found[0])))
        raise ExportProblem(_no_summary(uri, len(found)))

    # -- reading --------------------------------------------------------------------------------

    def read(self, root: ExportRoot, name: str) -> str:
        """A manifest of the export, as text."""
        uri = root.s3
        if uri is None:
            return (Path(root.location) / name).read_text(encoding="utf-8")
        try:
            body = self.s3.get_object(Bucket=uri.bucket, Key=uri.join(name).prefix)["Body"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise ExportProblem(f"cannot read {uri.join(name)}: {code}") from None
        text: str = body.read().decode("utf-8")
        return text

    def summary(self, root: ExportRoot) -> ExportSummary:
        try:
            return parse_summary(self.read(root, SUMMARY_NAME))
        except ValueError as exc:
            raise ExportProblem(f"{root}/{SUMMARY_NAME}: {exc}") from None

    def fetch(self, root: ExportRoot, into: Path) -> ExportRoot:
        """A local copy of an S3 export (manifests and data files), for the local engine."""
        uri = root.s3
        if uri is None:
            return root
        into.mkdir(parents=True, exist_ok=True)
        for name in (SUMMARY_NAME, FILES_NAME):
            (into / name).write_text(self.read(root, name), encoding="utf-8")
        files = parse_manifest_files((into / FILES_NAME).read_text(encoding="utf-8"))
        copied = 0
        for number, data_file in enumerate(files, start=1):
            target = Path(data_path(str(into), data_file.data_file_key))
            target.parent.mkdir(parents=True, exist_ok=True)
            source = S3Uri.parse(data_path(str(uri), data_file.data_file_key))
            self.s3.download_file(source.bucket, source.prefix, str(target))
            copied += target.stat().st_size
            if number % 50 == 0 or number == len(files):
                self.say(f"copied {number}/{len(files)} data files of {root} ({copied / 1e6:,.1f} MB)")
        return ExportRoot(str(into), root.arn)


def _local_root(folder: Path) -> Path:
    if (folder / SUMMARY_NAME).is_file():
        return folder
    found = sorted(p.parent for p in folder.glob(f"AWSDynamoDB/*/{SUMMARY_NAME}"))
    if len(found) == 1:
        return found[0]
    raise UsageError(_no_summary(folder, len(found)))


def _no_summary(where: object, exports_under_it: int) -> str:
    """Why a folder named as an export is not one (in S3 or local alike)."""
    many = f" and {exports_under_it} exports under AWSDynamoDB/: name one of them" if exports_under_it else ""
    return f"{where} holds no {SUMMARY_NAME}{many}"
