"""The export writer: a complete export in AWS's documented layout, read back by the layout's own
parsers, wherever the export is copied."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil

import pytest

from replicator.exports.layout import (
    FILES_NAME,
    SUMMARY_NAME,
    data_path,
    item_of_line,
    parse_manifest_files,
    parse_summary,
    relative_path,
)
from replicator.exports.writer import write_export

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Users"
EXPORT_TIME = 1_800_000_000.25


def user(n: int) -> dict[str, dict[str, str]]:
    return {"user_id": {"S": f"u{n}"}, "timestamp": {"N": str(n)}, "avatar": {"B": "AAE="}}


@pytest.fixture
def written(tmp_path):
    # GIVEN three data files, the middle one an empty partition's
    root = tmp_path / "nightly" / "AWSDynamoDB" / "01800000000250-0a1b2c3d"
    items = [[user(1), user(2)], [], [user(3)]]
    summary = write_export(root, items, table_arn=TABLE_ARN, export_time=EXPORT_TIME, s3_prefix="nightly")
    return root, items, summary


def test_the_export_has_every_file_of_the_documented_layout(written):
    root, _, _ = written
    names = {path.name for path in root.iterdir()}
    assert names == {
        "_started",
        "data",
        "manifest-files.json",
        "manifest-files.checksum",
        "manifest-summary.json",
        "manifest-summary.checksum",
    }
    assert (root / "_started").read_bytes() == b""
    assert len(list((root / "data").glob("*.json.gz"))) == 3


def test_the_summary_manifest_says_what_was_exported(written):
    root, _, summary = written
    assert parse_summary((root / SUMMARY_NAME).read_text()) == summary
    assert summary.export_arn == f"{TABLE_ARN}/export/01800000000250-0a1b2c3d"
    assert summary.table_arn == TABLE_ARN
    assert summary.export_time == pytest.approx(EXPORT_TIME, abs=0.001)
    assert summary.item_count == 3
    assert summary.manifest_files_key == "nightly/AWSDynamoDB/01800000000250-0a1b2c3d/manifest-files.json"
    assert (summary.s3_bucket, summary.s3_prefix, summary.output_format) == (
        "exports",
        "nightly",
        "DYNAMODB_JSON",
    )
    document = json.loads((root / SUMMARY_NAME).read_text())
    assert document["version"] == "2020-06-30" and document["exportType"] == "FULL_EXPORT"
    assert document["exportTime"] == "2027-01-15T08:00:00.250Z"


def test_each_data_file_holds_its_items_and_the_manifest_its_md5_and_count(written):
    root, items, summary = written
    files = parse_manifest_files((root / FILES_NAME).read_text())
    assert [f.item_count for f in files] == [2, 0, 1]
    size = 0
    for listed, expected in zip(files, items, strict=True):
        assert listed.data_file_key.startswith("nightly/AWSDynamoDB/01800000000250-0a1b2c3d/data/")
        body = (root / relative_path(listed.data_file_key)).read_bytes()
        assert listed.md5 == base64.b64encode(hashlib.md5(body).digest()).decode()
        lines = gzip.decompress(body).decode().splitlines() if body else []
        assert [item_of_line(line) for line in lines] == expected
        size += sum(len(line) + 1 for line in lines)
    assert summary.billed_size_bytes == size  # the uncompressed lines stand in for the table's size


def test_an_empty_partition_writes_an_empty_file(written):
    root, _, _ = written
    (empty,) = [f for f in parse_manifest_files((root / FILES_NAME).read_text()) if f.item_count == 0]
    assert (root / relative_path(empty.data_file_key)).read_bytes() == b""


@pytest.mark.parametrize("manifest", [FILES_NAME, SUMMARY_NAME])
def test_each_manifest_has_a_checksum_file(written, manifest):
    root, _, _ = written
    checksum = (root / manifest.replace(".json", ".checksum")).read_text()
    assert checksum == hashlib.md5((root / manifest).read_bytes()).hexdigest()


def test_an_export_copied_elsewhere_still_resolves_its_data_files(written, tmp_path):
    # GIVEN the export copied to another folder, under another prefix
    root, items, _ = written
    moved = tmp_path / "elsewhere" / "copy-of-export"
    shutil.copytree(root, moved)
    # WHEN its data files are found from its own manifest
    files = parse_manifest_files((moved / FILES_NAME).read_text())
    paths = [data_path(str(moved), f.data_file_key) for f in files]
    # THEN they are the copies, holding the items
    assert all(path.startswith(f"{moved}/data/") for path in paths)
    with gzip.open(paths[0], "rt") as first:
        assert [item_of_line(line) for line in first] == items[0]


def test_the_same_items_make_the_same_export(tmp_path):
    # Deterministic: fixtures and benchmarks written twice are byte-identical.
    def write(where):
        write_export(
            where, [[user(1)], [user(2)]], table_arn=TABLE_ARN, export_time=EXPORT_TIME, export_id="e-1"
        )
        return {p.relative_to(where): p.read_bytes() for p in where.rglob("*") if p.is_file()}

    assert write(tmp_path / "a") == write(tmp_path / "b")
