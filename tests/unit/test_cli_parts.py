"""The CLI's smaller pieces: help texts, the failure-message parser, the rate limiter, stream ranges."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from replicator.cli import failure_message
from replicator.cli.check import CheckOptions, scan_units
from replicator.cli.errors import UnknownFailureMessage
from replicator.cli.failure_message import BatchInfo
from replicator.cli.main import main
from replicator.cli.progress import Progress
from replicator.cli.redrive import RangeStatus, read_range
from replicator.cli.scan import TokenBucket, estimate_units
from replicator.core.errors import ConfigurationError
from replicator.core.protocol import ReplicaTables
from replicator.settings import Settings
from tests.support.events import raw_record

STREAM = "arn:aws:dynamodb:us-east-2:123456789012:table/Users/stream/2019-11-14T00:04:06.388"
LAMBDA_RECORD = {
    "requestContext": {
        "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2019-11-14T00:13:49.717Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-00000001573689847184-864758bb",
        "startSequenceNumber": "800000000003126276362",
        "endSequenceNumber": "800000000003126276362",
        "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
        "batchSize": 1,
        "streamArn": STREAM,
    },
}


@pytest.mark.parametrize("command", ["check", "repair", "backfill", "redrive"])
def test_each_subcommand_explains_itself_and_its_exit_codes(command, capsys):
    with pytest.raises(SystemExit, match=r"^0$") as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text and "--source" in text and "--replica" in text
    assert "--endpoint-url" in text and "--source-role-arn" in text and "--replica-profile" in text


def test_the_top_level_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit, match=r"^0$"):  # help exits 0
        main(["--help"])
    text = capsys.readouterr().out
    assert all(name in text for name in ("check", "repair", "backfill", "redrive"))


def test_a_missing_option_is_a_usage_error_with_exit_code_2(capsys):
    with pytest.raises(SystemExit, match=r"^2$") as exited:
        main(["check", "--source", "us-east-1/Users"])
    assert exited.value.code == 2
    assert "--replica" in capsys.readouterr().err


def test_lambdas_failure_record_is_parsed():
    info = failure_message.parse(json.dumps(LAMBDA_RECORD))
    assert info == BatchInfo(
        shard_id="shardId-00000001573689847184-864758bb",
        start_sequence_number="800000000003126276362",
        end_sequence_number="800000000003126276362",
        stream_arn=STREAM,
        batch_size=1,
        condition="RetryAttemptsExhausted",
    )
    assert info.table_name == "Users"


def test_a_failure_record_delivered_through_sns_is_parsed():
    envelope = {"Type": "Notification", "MessageId": "m", "Message": json.dumps(LAMBDA_RECORD)}
    assert failure_message.parse(json.dumps(envelope)).start == 800000000003126276362


def _with(**changes):
    info = {**LAMBDA_RECORD["DDBStreamBatchInfo"], **changes}  # type: ignore[dict-item]
    return json.dumps({**LAMBDA_RECORD, "DDBStreamBatchInfo": info})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("{", "not JSON", id="not-json"),
        pytest.param("[]", "not a JSON object", id="array"),
        pytest.param(json.dumps({"KinesisBatchInfo": {}}), "KinesisBatchInfo", id="kinesis"),
        pytest.param(_with(shardId=None), "shardId", id="no-shard"),
        pytest.param(_with(startSequenceNumber="12ab"), "not a sequence number", id="bad-sequence"),
        pytest.param(
            _with(startSequenceNumber="9", endSequenceNumber="8"), "starts after it ends", id="reversed"
        ),
        pytest.param(_with(streamArn="arn:aws:kinesis:us-east-2:1:stream/x"), "stream ARN", id="kinesis-arn"),
    ],
)
def test_an_unknown_message_gets_a_clear_reason(body, reason):
    with pytest.raises(UnknownFailureMessage, match=reason):
        failure_message.parse(body)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_token_bucket_holds_the_average_rate_to_the_limit():
    clock = Clock()
    bucket = TokenBucket(100.0, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        bucket.wait()
        bucket.charge(20.0)  # 50 requests of 20 units: 1,000 units
    # One second's budget is spent at once, the rest paced at 100 units/s; the last request's
    # debt is waited out by whichever request comes next: (1000 - 100 - 20) / 100 = 8.8 s.
    assert clock.now == pytest.approx(8.8)
    assert bucket.consumed == 1000.0


def test_an_unlimited_bucket_never_waits():
    clock = Clock()
    bucket = TokenBucket(None, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        bucket.wait()
        bucket.charge(1e6)
    assert clock.now == 0.0


def test_read_units_are_estimated_from_item_sizes_when_the_answer_does_not_say():
    small = {"k": {"S": "x" * 100}}
    big = {"k": {"S": "x" * 9000}}
    assert estimate_units([small, big], consistent=True, per_item=True) == 1 + 3
    assert estimate_units([small, big], consistent=False, per_item=True) == 2
    assert estimate_units([small] * 40, consistent=True, per_item=False) == 1  # a Scan rounds the page


def test_a_sample_picks_the_same_segments_for_the_same_seed():
    first, total = scan_units(CheckOptions(sample=0.1, seed=3))
    again, _ = scan_units(CheckOptions(sample=0.1, seed=3))
    assert first == again and len(first) == 100 and total == 1000
    assert scan_units(CheckOptions(segments=4)) == ([0, 1, 2, 3], 4)


def test_progress_is_silent_off_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream, label="check", total=100)
    progress.advance(50)
    progress.close()
    assert stream.getvalue() == "" and progress.count == 50


def test_progress_draws_a_bar_on_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream, label="check", total=100, enabled=True)
    progress.advance(50)
    progress.close()
    assert "[###############               ] 50 / ~100 items" in stream.getvalue()


def page(*sequences: int) -> list[dict[str, Any]]:
    """One GetRecords page holding these sequence numbers."""
    return [raw_record(sequence) for sequence in sequences]


class FakeStreams:
    """A shard whose pages are given; moto's shards never trim, expire iterators, or lag."""

    def __init__(self, pages, *, expire_once=False):
        self.pages = list(pages)
        self.expire_once = expire_once
        self.iterators = []

    def get_shard_iterator(self, **kwargs):
        self.iterators.append((kwargs["ShardIteratorType"], kwargs["SequenceNumber"]))
        return {"ShardIterator": "it"}

    def get_records(self, **_):
        if self.expire_once:
            self.expire_once = False
            raise ClientError({"Error": {"Code": "ExpiredIteratorException"}}, "GetRecords")
        page = self.pages.pop(0) if self.pages else []
        return {"Records": page, "NextShardIterator": "it"}


def fake(pages, **options) -> Any:
    return FakeStreams(pages, **options)


INFO = BatchInfo("shardId-1", "100", "103", STREAM, 4, None)


def test_a_range_whose_first_record_is_gone_has_aged_out():
    assert read_range(fake([page(102, 103)]), INFO) == (RangeStatus.AGED_OUT, [])


def test_a_range_is_read_across_pages_and_stops_at_its_end():
    streams = fake([page(100, 101), [], page(102, 103, 104)])
    status, records = read_range(streams, INFO)
    assert status is RangeStatus.COMPLETE
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == ["100", "101", "102", "103"]


def test_an_expired_iterator_is_renewed_after_the_last_record_read():
    streams = fake([page(100, 101), page(102, 103)], expire_once=True)
    status, records = read_range(streams, INFO)
    assert status is RangeStatus.COMPLETE and len(records) == 4
    assert streams.iterators == [("AT_SEQUENCE_NUMBER", "100"), ("AT_SEQUENCE_NUMBER", "100")]


def test_a_range_that_never_reaches_its_end_is_incomplete():
    status, records = read_range(fake([page(100)]), INFO)
    assert status is RangeStatus.INCOMPLETE and len(records) == 1


def test_python_dash_m_replicator_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "replicator", "redrive", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "failure queue" in done.stdout


@pytest.mark.parametrize("command", ["repair", "backfill", "redrive", "check"])
@pytest.mark.parametrize("hours", ["0", "-5", "24", "ten"])
def test_a_tombstone_retention_within_the_streams_24_hours_is_refused(command, hours, capsys):
    # GIVEN a retention that would let a replayed INSERT outlive its delete's tombstone
    argv = [command, "--source", "us-east-1/Users", "--replica", "eu-west-1/Users"]
    extra = ["--queue-url", "q"] if command == "redrive" else []
    # WHEN the command is parsed
    with pytest.raises(SystemExit, match=r"^2$") as exited:
        main([*argv, *extra, "--tombstone-retention-hours", hours])
    # THEN it stops before touching AWS, naming the option and the rule
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--tombstone-retention-hours" in err and ("25" in err or "whole number" in err)


def test_the_writer_refuses_a_tombstone_retention_shorter_than_the_stream():
    with pytest.raises(ConfigurationError, match="between 25 and 8760 hours"):
        ReplicaTables("Users", "Users-replication-state", 24 * 3600)
    assert ReplicaTables("Users", "Users-replication-state", 25 * 3600).tombstone_retention_seconds == 90000


def test_hand_built_replicator_settings_are_validated_too():
    with pytest.raises(ConfigurationError, match="TOMBSTONE_RETENTION_HOURS must be between 25"):
        Settings("Users", "eu-west-1", "Users-replication-state", tombstone_retention_hours=0)
