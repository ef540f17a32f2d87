"""AWS's documented layout of a DynamoDB table export to S3 (a full export in DynamoDB JSON). Pure.

Source: "DynamoDB table export output format",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html

An export's *root* is ``<S3Prefix>/AWSDynamoDB/<ExportId>/``: an ``s3://`` URI, or a local directory
holding a copy. Under it:

=========================  =====================================================================
``manifest-summary.json``  one JSON object: the export's and the table's ARNs, the point in time
                           exported, the item count, the key of ``manifest-files.json``
``manifest-files.json``    JSON lines, one per data file: ``itemCount``, ``md5Checksum`` (the
                           file's MD5, base64), ``etag``, ``dataFileS3Key``
``*.checksum``             one per manifest; the page names them but not what they hold, so
                           nothing here reads them
``_started``               empty, written first: the bucket is writable and the export has begun
``data/<random>.json.gz``  gzip JSON lines, one ``{"Item": {...}}`` each, values in DynamoDB JSON
                           (B as base64 text); at least one file per table partition, an empty
                           file for an empty partition
=========================  =====================================================================

Errors are :class:`ExportFormatError` naming the file, the line and the field, never a value: a
data line is an item's contents, and an error message must not become the place they leak.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from replicator.exports.errors import ExportFormatError

EXPORT_FOLDER = "AWSDynamoDB"
SUMMARY_NAME = "manifest-summary.json"
FILES_NAME = "manifest-files.json"
STARTED_NAME = "_started"
DATA_FOLDER = "data"
DYNAMODB_JSON = "DYNAMODB_JSON"
FULL_EXPORT = "FULL_EXPORT"


def checksum_name(manifest_name: str) -> str:
    """``manifest-files.json`` -> ``manifest-files.checksum``."""
    return manifest_name.removesuffix(".json") + ".checksum"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What ``manifest-summary.json`` says of an export."""

    export_arn: str
    table_arn: str
    export_time: float  # epoch seconds: the point in time the export holds the table as of
    item_count: int
    billed_size_bytes: int
    manifest_files_key: str
    s3_bucket: str
    s3_prefix: str | None  # None: exported to the top of the bucket
    output_format: str = DYNAMODB_JSON
    export_type: str = FULL_EXPORT

    def require_comparable(self) -> None:
        """Raise unless this is a full export in DynamoDB JSON, the only kind a check compares."""
        if self.output_format != DYNAMODB_JSON:
            raise ExportFormatError(
                f"{SUMMARY_NAME}: outputFormat is {self.output_format!r}; the check reads {DYNAMODB_JSON} "
                "exports (ExportFormat=DYNAMODB_JSON)"
            )
        if self.export_type != FULL_EXPORT:
            raise ExportFormatError(
                f"{SUMMARY_NAME}: exportType is {self.export_type!r}; the check compares whole tables "
                f"({FULL_EXPORT})"
            )


@dataclass(frozen=True, slots=True)
class DataFile:
    """One line of ``manifest-files.json``."""

    data_file_key: str  # the S3 key the export wrote it to; see data_path() for where it is now
    item_count: int
    md5: str  # base64 MD5 of the gzip file, as S3's Content-MD5


def _object(text: str, where: str) -> Mapping[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        # Our own words: the decoder's exception keeps the whole text (exc.doc), so it is not chained.
        raise ExportFormatError(f"{where}: not JSON ({exc.msg}: character {exc.pos})") from None
    if not isinstance(document, dict):
        raise ExportFormatError(f"{where}: not a JSON object")
    return document


def _text(document: Mapping[str, Any], name: str, where: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise ExportFormatError(f"{where}: {name!r} must be a non-empty string")
    return value


def _optional_text(document: Mapping[str, Any], name: str, where: str) -> str | None:
    return None if document.get(name) is None else _text(document, name, where)


def _count(document: Mapping[str, Any], name: str, where: str) -> int:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ExportFormatError(f"{where}: {name!r} must be a whole number, zero or more")
    return value


def _epoch_seconds(document: Mapping[str, Any], name: str, where: str) -> float:
    text = _text(document, name, where)
    try:
        moment = dt.datetime.fromisoformat(text)  # AWS writes ISO 8601 with a Z: 2020-11-04T07:28:34.028Z
    except ValueError:
        raise ExportFormatError(f"{where}: {name!r} must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def parse_summary(text: str) -> ExportSummary:
    """The typed view of ``manifest-summary.json``; ExportFormatError names what is wrong."""
    document = _object(text, SUMMARY_NAME)
    return ExportSummary(
        export_arn=_text(document, "exportArn", SUMMARY_NAME),
        table_arn=_text(document, "tableArn", SUMMARY_NAME),
        export_time=_epoch_seconds(document, "exportTime", SUMMARY_NAME),
        item_count=_count(document, "itemCount", SUMMARY_NAME),
        billed_size_bytes=_count(document, "billedSizeBytes", SUMMARY_NAME),
        manifest_files_key=_text(document, "manifestFilesS3Key", SUMMARY_NAME),
        s3_bucket=_text(document, "s3Bucket", SUMMARY_NAME),
        s3_prefix=_optional_text(document, "s3Prefix", SUMMARY_NAME),
        output_format=_text(document, "outputFormat", SUMMARY_NAME),
        # Summaries written before incremental exports existed have no exportType: they are full.
        export_type=_optional_text(document, "exportType", SUMMARY_NAME) or FULL_EXPORT,
    )


def parse_manifest_files(text: str) -> list[DataFile]:
    """The data files ``manifest-files.json`` lists, in its order; ExportFormatError names the line."""
    files: list[DataFile] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{FILES_NAME} line {number}"
        document = _object(line, where)
        key = _text(document, "dataFileS3Key", where)
        relative_path(key, where)  # refuse a key no root could resolve now, not when reading data
        files.append(
            DataFile(key, _count(document, "itemCount", where), _text(document, "md5Checksum", where))
        )
    if not files:
        raise ExportFormatError(
            f"{FILES_NAME} lists no data files (an export writes at least one per partition)"
        )
    return files


def relative_path(data_file_key: str, where: str = FILES_NAME) -> str:
    """The part of a data file's key after ``AWSDynamoDB/<ExportId>/``, e.g. ``data/x.json.gz``."""
    parts = data_file_key.split("/")
    # The last AWSDynamoDB folder with an export id and a file under it: the prefix may hold one too.
    starts = [i for i, part in enumerate(parts[:-2]) if part == EXPORT_FOLDER and parts[i + 1]]
    if not starts:
        raise ExportFormatError(
            f"{where}: data file key {data_file_key!r} is not under {EXPORT_FOLDER}/<ExportId>/"
        )
    rest = parts[starts[-1] + 2 :]
    if any(part in ("", ".", "..") for part in rest):
        raise ExportFormatError(f"{where}: data file key {data_file_key!r} has an empty, '.' or '..' part")
    return "/".join(rest)


def join(root: str, *names: str) -> str:
    """A path under an export's root, for a local directory and an ``s3://`` URI alike."""
    return "/".join([root.rstrip("/"), *names])


def data_path(root: str, data_file_key: str) -> str:
    """Where a data file is under ``root``: found by its key's part after the export id, so an export
    copied to another bucket, prefix or disk still resolves."""
    return join(root, relative_path(data_file_key))


def item_of_line(line: str) -> dict[str, Any]:
    """The raw DynamoDB JSON item of one data line (``{"Item": {...}}``); ExportFormatError otherwise."""
    document = _object(line, "a data line")
    item = document.get("Item")
    if item is None:
        # Incremental exports hold Keys/NewImage/OldImage lines instead.
        raise ExportFormatError("a data line has no 'Item': only full exports in DynamoDB JSON are compared")
    if not isinstance(item, dict):
        raise ExportFormatError("a data line's 'Item' is not a JSON object")
    return item
