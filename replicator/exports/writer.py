"""A small writer of complete DynamoDB exports in AWS's documented layout (:mod:`.layout`).

For tests, the benchmark and fixtures: moto's ExportTableToPointInTime writes one data file and no
manifests, so an export shaped exactly like AWS's is made here. Items are given in the raw
DynamoDB JSON form an export holds (B as base64 text), one list per data file; an empty list makes
an empty file, as DynamoDB writes for an empty partition.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from replicator.exports.layout import (
    DATA_FOLDER,
    DYNAMODB_JSON,
    EXPORT_FOLDER,
    FILES_NAME,
    FULL_EXPORT,
    STARTED_NAME,
    SUMMARY_NAME,
    ExportSummary,
    checksum_name,
    parse_summary,
)


def _iso(epoch_seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch_seconds, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _data_file_name(export_id: str, index: int) -> str:
    # Deterministic stand-in for DynamoDB's random 26-character names.
    digest = hashlib.blake2b(f"{export_id}/{index}".encode(), digest_size=20).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:26] + ".json.gz"


def _data_file(items: Sequence[Mapping[str, Any]]) -> tuple[bytes, int]:
    """A data file's bytes and its uncompressed size; no items: an empty file, as the page says."""
    lines = b"".join(json.dumps({"Item": item}, separators=(",", ":")).encode() + b"\n" for item in items)
    return (gzip.compress(lines, mtime=0) if lines else b""), len(lines)


def _write_manifest(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text, encoding="utf-8")
    # What the .checksum files hold is not documented: the hex MD5 of the manifest stands in.
    digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
    (root / checksum_name(name)).write_text(digest, encoding="ascii")


def write_export(
    root: Path,
    items_per_file: Iterable[Sequence[Mapping[str, Any]]],
    *,
    table_arn: str,
    export_time: float,
    export_id: str | None = None,
    s3_bucket: str = "exports",
    s3_prefix: str | None = "exports",
) -> ExportSummary:
    """Write a full export of these items under ``root`` (its ``AWSDynamoDB/<ExportId>/`` folder).

    ``export_id`` defaults to the root's folder name. The manifests name the S3 keys the export
    would have in ``s3_bucket`` under ``s3_prefix``; readers find the files under ``root`` all the
    same (:func:`~replicator.exports.layout.data_path`). Returns the typed manifest summary.
    """
    export_id = export_id or root.name
    base = "/".join(part for part in (s3_prefix, EXPORT_FOLDER, export_id) if part)
    (root / DATA_FOLDER).mkdir(parents=True, exist_ok=True)
    (root / STARTED_NAME).write_bytes(b"")
    entries: list[dict[str, Any]] = []
    item_count = size = 0
    for index, items in enumerate(items_per_file):
        body, uncompressed = _data_file(items)
        name = _data_file_name(export_id, index)
        (root / DATA_FOLDER / name).write_bytes(body)
        md5 = hashlib.md5(body, usedforsecurity=False)
        entries.append(
            {
                "itemCount": len(items),
                "md5Checksum": base64.b64encode(md5.digest()).decode("ascii"),
                "etag": md5.hexdigest(),  # a single-part upload's ETag is its MD5
                "dataFileS3Key": f"{base}/{DATA_FOLDER}/{name}",
            }
        )
        item_count += len(items)
        size += uncompressed
    _write_manifest(root, FILES_NAME, "".join(json.dumps(entry) + "\n" for entry in entries))
    when = _iso(export_time)
    summary = {
        "version": "2020-06-30",
        "exportArn": f"{table_arn}/export/{export_id}",
        "startTime": when,
        "endTime": when,
        "tableArn": table_arn,
        "tableId": str(uuid.UUID(bytes=hashlib.md5(table_arn.encode(), usedforsecurity=False).digest())),
        "exportTime": when,
        "s3Bucket": s3_bucket,
        "s3Prefix": s3_prefix,
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": f"{base}/{FILES_NAME}",
        "billedSizeBytes": size,  # DynamoDB bills the table's size; the items' JSON stands in
        "itemCount": item_count,
        "outputFormat": DYNAMODB_JSON,
        "exportType": FULL_EXPORT,
    }
    text = json.dumps(summary, indent=3)
    _write_manifest(root, SUMMARY_NAME, text)
    return parse_summary(text)
