"""AWS's export layout, read: the manifests' typed views, data file paths, data lines; errors that
name the file, the line and the field, and never quote an item."""

from __future__ import annotations

import json

import pytest

from replicator.exports.errors import ExportFormatError
from replicator.exports.layout import (
    DataFile,
    checksum_name,
    data_path,
    item_of_line,
    parse_manifest_files,
    parse_summary,
    relative_path,
)

SECRET = "SECRET-4b1d"  # an item's contents: must never appear in an error

# Shaped like the example of AWS's page (S3DataExport.Output.html), values our own.
SUMMARY = {
    "version": "2020-06-30",
    "exportArn": "arn:aws:dynamodb:us-east-1:123456789012:table/Users/export/01604474914028-a1b2c3d4",
    "startTime": "2020-11-04T07:28:34.028Z",
    "endTime": "2020-11-04T07:33:43.897Z",
    "tableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/Users",
    "tableId": "12345a12-abcd-123a-ab12-1234abc12345",
    "exportTime": "2020-11-04T07:28:34.028Z",
    "s3Bucket": "exports-bucket",
    "s3Prefix": "nightly",
    "s3SseAlgorithm": "AES256",
    "s3SseKmsKeyId": None,
    "manifestFilesS3Key": "nightly/AWSDynamoDB/01604474914028-a1b2c3d4/manifest-files.json",
    "billedSizeBytes": 1234,
    "itemCount": 8,
    "outputFormat": "DYNAMODB_JSON",
    "exportType": "FULL_EXPORT",
}
DATA_KEY = "nightly/AWSDynamoDB/01604474914028-a1b2c3d4/data/bafybeiczss3yxay3o4abnabbb.json.gz"
FILE_LINE = {
    "itemCount": 8,
    "md5Checksum": "sQMSpEILNgoQmarvDFonGQ==",
    "etag": "af83d6f217c19b8b0fff8023d8ca4716-1",
    "dataFileS3Key": DATA_KEY,
}


def summary_text(**changes: object) -> str:
    document = {**SUMMARY, **changes}
    return json.dumps({name: value for name, value in document.items() if value is not ...})


def test_the_summary_manifest_reads_into_its_typed_view():
    summary = parse_summary(summary_text())
    assert summary.export_arn.endswith("/export/01604474914028-a1b2c3d4")
    assert summary.table_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/Users"
    assert summary.export_time == pytest.approx(1604474914.028)
    assert (summary.item_count, summary.billed_size_bytes) == (8, 1234)
    assert summary.manifest_files_key.endswith("/manifest-files.json")
    assert (summary.s3_bucket, summary.s3_prefix) == ("exports-bucket", "nightly")
    summary.require_comparable()


def test_a_summary_without_prefix_or_export_type_is_a_full_export_at_the_top_of_the_bucket():
    # GIVEN a summary of an export with no S3 prefix, written before incremental exports existed
    summary = parse_summary(summary_text(s3Prefix=None, exportType=...))
    assert summary.s3_prefix is None
    assert summary.export_type == "FULL_EXPORT"
    summary.require_comparable()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", r"^manifest-summary.json: not JSON \(", id="not-json"),
        pytest.param("[1, 2]", r"^manifest-summary.json: not a JSON object$", id="not-an-object"),
        pytest.param(summary_text(exportArn=...), r"'exportArn' must be a non-empty string", id="no-arn"),
        pytest.param(summary_text(itemCount="8"), r"'itemCount' must be a whole number", id="count-as-text"),
        pytest.param(summary_text(itemCount=True), r"'itemCount' must be a whole number", id="count-as-bool"),
        pytest.param(
            summary_text(billedSizeBytes=-1), r"'billedSizeBytes' must be a whole number", id="negative"
        ),
        pytest.param(
            summary_text(exportTime="yesterday"), r"'exportTime' must be an ISO 8601 time", id="time"
        ),
    ],
)
def test_a_bad_summary_manifest_says_which_field(text, message):
    with pytest.raises(ExportFormatError, match=message):
        parse_summary(text)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"outputFormat": "ION"}, r"outputFormat is 'ION'; the check reads DYNAMODB_JSON", id="ion"
        ),
        pytest.param(
            {"exportType": "INCREMENTAL_EXPORT"}, r"exportType is 'INCREMENTAL_EXPORT'", id="incremental"
        ),
    ],
)
def test_only_full_exports_in_dynamodb_json_are_comparable(changes, message):
    summary = parse_summary(summary_text(**changes))
    with pytest.raises(ExportFormatError, match=message):
        summary.require_comparable()


def test_the_files_manifest_lists_each_data_file_in_order():
    # GIVEN JSON lines, one per data file, one of them an empty partition's file, and a trailing blank line
    other_key = DATA_KEY.replace("bafy", "gkes")
    second = {**FILE_LINE, "itemCount": 0, "dataFileS3Key": other_key}
    text = f"{json.dumps(FILE_LINE)}\n{json.dumps(second)}\n\n"
    # WHEN it is read, THEN every file is there with its key, item count and MD5
    assert parse_manifest_files(text) == [
        DataFile(DATA_KEY, 8, "sQMSpEILNgoQmarvDFonGQ=="),
        DataFile(other_key, 0, "sQMSpEILNgoQmarvDFonGQ=="),
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        pytest.param([FILE_LINE, "{oops"], r"^manifest-files.json line 2: not JSON \(", id="not-json"),
        pytest.param(
            [{**FILE_LINE, "itemCount": -1}], r"line 1: 'itemCount' must be a whole number", id="count"
        ),
        pytest.param(
            [{**FILE_LINE, "md5Checksum": None}], r"line 1: 'md5Checksum' must be a non-empty", id="md5"
        ),
        pytest.param(
            [{**FILE_LINE, "dataFileS3Key": "nightly/data/x.json.gz"}],
            r"line 1: data file key 'nightly/data/x.json.gz' is not under AWSDynamoDB/<ExportId>/",
            id="not-under-an-export",
        ),
        pytest.param([], r"^manifest-files.json lists no data files", id="empty"),
    ],
)
def test_a_bad_files_manifest_says_which_line_and_field(lines, message):
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    with pytest.raises(ExportFormatError, match=message):
        parse_manifest_files(text)


@pytest.mark.parametrize(
    ("root", "key", "path"),
    [
        pytest.param(
            "s3://copies/moved/AWSDynamoDB/0160-a1/",
            "nightly/AWSDynamoDB/0160-a1/data/x.json.gz",
            "s3://copies/moved/AWSDynamoDB/0160-a1/data/x.json.gz",
            id="copied-to-another-bucket",
        ),
        pytest.param(
            "/tmp/exports/0160-a1",
            "AWSDynamoDB/0160-a1/data/x.json.gz",
            "/tmp/exports/0160-a1/data/x.json.gz",
            id="key-without-prefix-on-a-disk",
        ),
        pytest.param(
            "s3://b/r",
            "backups/AWSDynamoDB/daily/AWSDynamoDB/0160-a1/data/x.json.gz",
            "s3://b/r/data/x.json.gz",
            id="prefix-holding-the-folder-name",
        ),
    ],
)
def test_a_data_file_resolves_under_the_root_wherever_the_export_now_is(root, key, path):
    assert data_path(root, key) == path


def test_a_data_file_key_cannot_climb_out_of_its_root():
    with pytest.raises(ExportFormatError, match=r"has an empty, '\.' or '\.\.' part"):
        relative_path("p/AWSDynamoDB/0160-a1/../../secrets.json.gz")


def test_each_manifest_has_its_checksum_file():
    assert checksum_name("manifest-files.json") == "manifest-files.checksum"
    assert checksum_name("manifest-summary.json") == "manifest-summary.checksum"


def test_a_data_line_gives_its_raw_item():
    line = json.dumps({"Item": {"user_id": {"S": "u1"}, "avatar": {"B": "AAE="}}})
    assert item_of_line(line) == {"user_id": {"S": "u1"}, "avatar": {"B": "AAE="}}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param('{"Item": {"name": {"S": "' + SECRET, r"^a data line: not JSON \(", id="cut-short"),
        pytest.param(json.dumps([SECRET]), r"^a data line: not a JSON object$", id="not-an-object"),
        pytest.param(
            json.dumps({"Keys": {"id": {"S": SECRET}}, "NewImage": {"id": {"S": SECRET}}}),
            r"^a data line has no 'Item': only full exports in DynamoDB JSON are compared$",
            id="incremental-export-line",
        ),
        pytest.param(
            json.dumps({"Item": [SECRET]}), r"^a data line's 'Item' is not a JSON object$", id="item-list"
        ),
    ],
)
def test_a_bad_data_line_is_refused_without_quoting_it(line, message):
    with pytest.raises(ExportFormatError, match=message) as refused:
        item_of_line(line)
    assert SECRET not in str(refused.value)
    # nor does a chained exception (json's error keeps the whole line) show in a traceback
    assert refused.value.__cause__ is None
    assert refused.value.__context__ is None or refused.value.__suppress_context__
