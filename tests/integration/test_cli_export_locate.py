"""Finding and requesting exports: moto for the calls it implements, botocore's Stubber for the
states moto never reaches (an export in progress, a well-formed export ARN: moto's is malformed,
NOTES.md), each checking the exact request."""

from __future__ import annotations

import datetime as dt
import time

import boto3
import pytest
from botocore.stub import Stubber

from replicator.cli.exports.locate import ExportProblem, ExportRoot, Exports
from replicator.cli.exports.options import ExportRef, RefKind, S3Uri

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/export/01700000000000-abcdef12"
BUCKET = "exports-bucket"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class MotoClock(Clock):
    """moto finishes an export in a thread of its own: each poll's pause lets it run a little (real
    time), and the check's deadline (fake time) is far enough that only moto's finishing ends the wait."""

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        time.sleep(0.01)


MOTO_TIMEOUT = 10**7  # fake seconds: a million polls


def _exports(dynamodb, s3, said: list[str], clock: Clock | None = None) -> Exports:
    clock = clock or Clock()
    return Exports(dynamodb, s3, said.append, sleep=clock.sleep, clock=clock, poll_seconds=30)


def test_a_table_without_pitr_is_refused_with_the_reason(regions):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    regions.source.update_continuous_backups(
        TableName="Users", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    with pytest.raises(ExportProblem, match="point-in-time recovery is off"):
        _exports(regions.source, s3, []).request("Users", 1_800_000_000, S3Uri(BUCKET, "checks"))


def test_a_failed_export_names_its_failure(regions):
    # GIVEN an export requested into a bucket that does not exist (moto fails it, as AWS would)
    s3 = boto3.client("s3", region_name="us-east-1")
    said: list[str] = []
    exports = _exports(regions.source, s3, said, MotoClock())
    arn = exports.request("Users", dt.datetime.now(dt.UTC).timestamp() - 60, S3Uri("no-such-bucket", "x"))
    # WHEN the check waits for it, THEN it stops with DynamoDB's failure code
    with pytest.raises(ExportProblem, match="failed: S3NoSuchBucket"):
        exports.completed(arn, timeout_seconds=MOTO_TIMEOUT)
    assert said and "requested an export of Users" in said[0]


def test_an_export_is_waited_for_and_found_where_aws_writes_it():
    # GIVEN an export in progress for two polls, then completed
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    described = {"ExportArn": ARN, "S3Bucket": BUCKET, "S3Prefix": "checks/run1"}
    clock, said = Clock(), list[str]()
    with Stubber(dynamodb) as stub:
        for status in ("IN_PROGRESS", "IN_PROGRESS", "COMPLETED"):
            stub.add_response(
                "describe_export",
                {"ExportDescription": {**described, "ExportStatus": status, "ExportFormat": "DYNAMODB_JSON",
                                       "ExportType": "FULL_EXPORT"}},
                {"ExportArn": ARN},
            )  # fmt: skip
        # WHEN the check waits for it
        root = _exports(dynamodb, None, said, clock).completed(ARN, timeout_seconds=3600)
    # THEN it polled every 30 s, said so once, and found the folder of AWS's layout
    assert clock.slept == [30, 30] and said == ["export 01700000000000-abcdef12: in progress"]
    assert root == ExportRoot(f"s3://{BUCKET}/checks/run1/AWSDynamoDB/01700000000000-abcdef12", ARN)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"ExportStatus": "IN_PROGRESS"}, "still IN_PROGRESS after 60 s", id="timeout"),
        pytest.param(
            {"ExportStatus": "COMPLETED", "ExportType": "INCREMENTAL_EXPORT"}, "incremental", id="incremental"
        ),
        pytest.param({"ExportStatus": "COMPLETED", "ExportFormat": "ION"}, "in ION", id="ion"),
    ],
)
def test_an_export_the_check_cannot_use_is_refused(fields, message):
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(dynamodb) as stub:
        for _ in range(3):
            stub.add_response(
                "describe_export",
                {"ExportDescription": {"ExportArn": ARN, "S3Bucket": BUCKET, **fields}},
                {"ExportArn": ARN},
            )
        with pytest.raises(ExportProblem, match=message):
            _exports(dynamodb, None, []).completed(ARN, timeout_seconds=60)


def test_an_export_folder_is_found_from_its_uri_its_manifest_or_its_prefix(aws):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    folder = "checks/AWSDynamoDB/01700000000000-abcdef12"
    s3.put_object(Bucket=BUCKET, Key=f"{folder}/manifest-summary.json", Body=b"{}")
    exports = _exports(None, s3, [])
    expected = ExportRoot(f"s3://{BUCKET}/{folder}")
    for named in (
        f"s3://{BUCKET}/{folder}",
        f"s3://{BUCKET}/{folder}/manifest-summary.json",
        f"s3://{BUCKET}/checks",
    ):
        assert exports.locate(ExportRef(RefKind.S3, named), timeout_seconds=1) == expected, named
    # AND a prefix holding two exports, or none, is refused with what to do
    s3.put_object(
        Bucket=BUCKET, Key="checks/AWSDynamoDB/01700000000001-bbbbbbbb/manifest-summary.json", Body=b"{}"
    )
    with pytest.raises(ExportProblem, match="2 exports under AWSDynamoDB/: name one of them"):
        exports.locate(ExportRef(RefKind.S3, f"s3://{BUCKET}/checks"), timeout_seconds=1)
    with pytest.raises(ExportProblem, match=r"holds no manifest-summary\.json"):
        exports.locate(ExportRef(RefKind.S3, f"s3://{BUCKET}/elsewhere"), timeout_seconds=1)


def test_moto_describes_a_requested_export_with_a_malformed_arn_and_the_check_says_so(regions):
    # moto 5 names exports ".../table/<table ARN>/import/<id>" (NOTES.md): no folder can be derived
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    exports = _exports(regions.source, s3, [], MotoClock())
    arn = exports.request("Users", dt.datetime.now(dt.UTC).timestamp() - 60, S3Uri(BUCKET, "checks"))
    with pytest.raises(ExportProblem, match="not an export ARN"):
        exports.completed(arn, timeout_seconds=MOTO_TIMEOUT)
