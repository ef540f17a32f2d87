"""`redrive`: batches named in the failure queue are re-read from moto's stream and applied safely."""

from __future__ import annotations

import io
import json
import time

import boto3
import pytest

from faultlab.wire import error_response
from localrun.esm.failure import Condition, failure_message
from localrun.esm.outcome import UNHANDLED
from localrun.esm.records import PendingRecord
from replicator.cli.redrive import Redriver
from replicator.cli.results import Verdict
from replicator.core import schema
from replicator.handler import build_replicator
from replicator.settings import from_environ
from tests.support.cli import FAST, deliver_all, live_harness, run_cli
from tests.support.deployed import deploy
from tests.support.events import key
from tests.support.replication import BASE_ENV

QUEUE = "Users-replication-failures"
ORDERS = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"


def item(user, plan):
    return {**key(user), "plan": {"S": plan}}


def plan_in(client, user):
    found = client.get_item(TableName="Users", Key=key(user), ConsistentRead=True).get("Item")
    return None if found is None else found["plan"]["S"]


@pytest.fixture
def queue(regions):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    return sqs, url


def failure_record(regions, records):
    """The invocation record Lambda sends to an on-failure destination: a range, not the records.
    Built by the local event source mapping (its shape is checked against AWS's in the unit tier)."""
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    (shard,) = streams.describe_stream(StreamArn=regions.stream_arn)["StreamDescription"]["Shards"]
    message = failure_message(
        records=[PendingRecord.from_stream(r, stream_arn=regions.stream_arn) for r in records],
        condition=Condition.RETRY_ATTEMPTS_EXHAUSTED,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:Users-replicator",
        request_id="316aa6d0-8154-4e4a-9af7-85d5f4a6bc81",
        invoke_count=11,
        function_error=UNHANDLED,
        shard_id=shard["ShardId"],
        stream_arn=regions.stream_arn,
        now=time.time(),
    )
    return json.dumps(message)


def messages_left(sqs, url):
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def failed_batch(regions, harness, sqs, url):
    """a, b replicated; then a batch (a->v2, b->v2, c) fails and lands in the queue; then a->v3 replicates."""
    for user in ("a", "b"):
        regions.source.put_item(TableName="Users", Item=item(user, "v1"))
    deliver_all(harness, regions)
    for user in ("a", "b", "c"):
        regions.source.put_item(TableName="Users", Item=item(user, "v2"))
    failed = regions.tap.read_raw()  # never applied: Lambda gave up on them
    sqs.send_message(QueueUrl=url, MessageBody=failure_record(regions, failed))
    regions.source.put_item(TableName="Users", Item=item("a", "v3"))
    deliver_all(harness, regions)
    return failed


REDRIVE = ["--queue-url", QUEUE, "--wait-seconds", "0", *FAST]


def test_redrive_replays_a_failed_batch_and_newer_changes_stay(regions, queue, tmp_path):
    sqs, url = queue
    harness = live_harness(regions)
    failed_batch(regions, harness, sqs, url)
    assert (plan_in(regions.replica, "a"), plan_in(regions.replica, "b"), plan_in(regions.replica, "c")) == (
        "v3",
        "v1",
        None,
    )
    report = tmp_path / "redrive.json"
    # WHEN the failure queue is redriven
    result = run_cli("redrive", *REDRIVE, "--json", str(report))
    # THEN the batch's changes are applied, the newer change to a stays, and the message is gone
    assert result.code == 0, result.stderr
    assert (plan_in(regions.replica, "a"), plan_in(regions.replica, "b"), plan_in(regions.replica, "c")) == (
        "v3",
        "v2",
        "v2",
    )
    assert messages_left(sqs, url) == 0
    (message,) = json.loads(report.read_text())["messages"]
    assert (message["verdict"], message["records"]) == ("applied", 3)
    assert run_cli("check", *FAST).code == 0
    # AND redriving the same range again changes nothing (it is idempotent)
    sqs.send_message(QueueUrl=url, MessageBody=failure_record(regions, failed_batch_again(regions)))
    assert run_cli("redrive", *REDRIVE).code == 0
    assert plan_in(regions.replica, "a") == "v3"


def failed_batch_again(regions):
    """The same three records as the failed batch: the stream holds a:v1, b:v1, then the batch, then a:v3."""
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    (shard,) = streams.describe_stream(StreamArn=regions.stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=regions.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"][2:5]


def test_records_the_replicator_rejects_keep_their_message(regions, queue, tmp_path):
    sqs, url = queue
    live_harness(regions)
    # An item the replicator can never copy: it holds the replicator's reserved attribute.
    regions.source.put_item(
        TableName="Users", Item={**item("bad", "v1"), schema.VERSION_ATTRIBUTE: {"S": "1"}}
    )
    sqs.send_message(QueueUrl=url, MessageBody=failure_record(regions, regions.tap.read_raw()))
    report = tmp_path / "redrive.json"
    result = run_cli("redrive", *REDRIVE, "--json", str(report))
    assert result.code == 1
    (message,) = json.loads(report.read_text())["messages"]
    assert message["verdict"] == "failed"
    assert message["errors"] == {"MetadataCollision": 1}  # from the replicator's typed batch report
    assert messages_left(sqs, url) == 1


class RefusedOutput(io.StringIO):
    """Standard output that fails the test if anything at all is written to it."""

    def write(self, text: str) -> int:
        raise AssertionError(f"the replicator wrote output during a redrive: {text[:60]!r}")


def refused_handle(event, context):
    raise AssertionError("redrive went through the Lambda path, which writes log lines")


def test_redrive_learns_error_classes_from_the_typed_report_without_reading_output(
    regions, queue, monkeypatch
):
    # GIVEN a failed batch holding an item the replicator can never copy (its reserved attribute)
    sqs, url = queue
    regions.source.put_item(
        TableName="Users", Item={**item("bad", "v1"), schema.VERSION_ATTRIBUTE: {"S": "1"}}
    )
    sqs.send_message(QueueUrl=url, MessageBody=failure_record(regions, regions.tap.read_raw()))
    # AND a replicator that can write no log line: its output refuses writes, its Lambda path is off
    replicator = build_replicator(from_environ(BASE_ENV), out=RefusedOutput())
    monkeypatch.setattr(replicator, "handle", refused_handle)
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    redriver = Redriver(sqs, url, streams, replicator, "Users", wait_seconds=0)
    # WHEN the message is redriven
    (result,) = [redriver.handle(message) for message in redriver.messages()]
    # THEN the error class comes from the replicator's typed report and the message is kept
    assert result.verdict is Verdict.FAILED
    assert result.errors == {"MetadataCollision": 1}
    assert messages_left(sqs, url) == 1


def trimmed(client):
    """The stream no longer holds the range: GetShardIterator answers TrimmedDataAccessException."""
    if client.meta.service_model.service_name == "dynamodbstreams":
        client.meta.events.register(
            "before-send.dynamodb-streams.GetShardIterator",
            lambda **_: error_response(400, "TrimmedDataAccessException"),
        )


def aged_out_batch(regions, harness, sqs, url):
    for user in ("a", "b"):
        regions.source.put_item(TableName="Users", Item=item(user, "v1"))
    deliver_all(harness, regions)
    regions.source.put_item(TableName="Users", Item=item("a", "v2"))
    regions.source.delete_item(TableName="Users", Key=key("b"))
    sqs.send_message(QueueUrl=url, MessageBody=failure_record(regions, regions.tap.read_raw()))


def test_an_aged_out_range_is_repaired_from_the_source_and_reported_by_key(regions, queue, tmp_path):
    sqs, url = queue
    aged_out_batch(regions, live_harness(regions), sqs, url)
    report = tmp_path / "redrive.json"
    result = run_cli("redrive", *REDRIVE, "--json", str(report), instrument=trimmed)
    assert result.code == 0, result.stderr
    document = json.loads(report.read_text())
    assert document["messages"][0]["verdict"] == "aged_out"
    repaired = {
        (r["key"]["user_id"]["S"], r["kind"], r["status"]) for r in document["agedOutRepair"]["repairs"]
    }
    assert repaired == {("a", "different", "repaired"), ("b", "extra", "repaired")}
    assert (plan_in(regions.replica, "a"), plan_in(regions.replica, "b")) == ("v2", None)
    assert messages_left(sqs, url) == 0
    assert run_cli("check", *FAST).code == 0


def test_without_repair_an_aged_out_range_keeps_its_message(regions, queue):
    sqs, url = queue
    aged_out_batch(regions, live_harness(regions), sqs, url)
    result = run_cli("redrive", *REDRIVE, "--no-repair-aged-out", instrument=trimmed)
    assert result.code == 1
    assert "aged out" in result.stderr
    assert messages_left(sqs, url) == 1
    assert plan_in(regions.replica, "a") == "v1"


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        pytest.param("not json", "unknown", id="not-json"),
        pytest.param(json.dumps({"KinesisBatchInfo": {}}), "unknown", id="kinesis"),
        pytest.param(
            json.dumps(
                {
                    "DDBStreamBatchInfo": {
                        "shardId": "shardId-1",
                        "startSequenceNumber": "1",
                        "endSequenceNumber": "2",
                        "streamArn": f"{ORDERS}/stream/2026-01-01T00:00:00.000",
                    }
                }
            ),
            "other_table",
            id="other-table",
        ),
    ],
)
def test_messages_it_cannot_use_are_kept_and_reported(regions, queue, tmp_path, body, verdict):
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody=body)
    report = tmp_path / "redrive.json"
    result = run_cli("redrive", *REDRIVE, "--json", str(report))
    assert result.code == 1
    (message,) = json.loads(report.read_text())["messages"]
    assert message["verdict"] == verdict and message["detail"]
    assert messages_left(sqs, url) == 1


def test_redrive_refuses_to_be_a_third_reader_of_a_stream_two_mappings_read(regions, queue):
    # GIVEN a failed batch in the queue, and the replicator's and usage metrics' mappings on the stream
    sqs, url = queue
    failed_batch(regions, live_harness(regions), sqs, url)
    deploy(regions)
    before = plan_in(regions.replica, "b")
    # WHEN the failure queue is redriven without saying it may be a third reader
    result = run_cli("redrive", *REDRIVE)
    # THEN it refuses before reading anything, says why and how to go on, and the message waits
    assert result.code == 2
    assert result.stderr.startswith("error: refusing to read arn:aws:dynamodb:us-east-1:")
    assert "2 event source mapping(s) already read it (Users-replicator (Enabled), Users-usage-metrics" in (
        result.stderr
    )
    assert "at most 2 reader(s)" in result.stderr and "--allow-third-reader" in result.stderr
    assert messages_left(sqs, url) == 1 and plan_in(regions.replica, "b") == before


@pytest.mark.parametrize("flag", ["--allow-third-reader", "--i-know-about-the-two-reader-limit"])
def test_redrive_told_it_may_be_a_third_reader_replays_with_paced_reads(regions, queue, flag):
    # GIVEN the same failed batch and two mappings on the stream
    sqs, url = queue
    failed_batch(regions, live_harness(regions), sqs, url)
    deploy(regions)
    # AND a record of every GetRecords call
    reads: list[str] = []

    def instrument(client):
        if client.meta.service_model.service_name == "dynamodbstreams":
            client.meta.events.register(
                "before-call.dynamodb-streams.GetRecords", lambda **_: reads.append("r")
            )

    # WHEN redrive is told it may be a third reader
    result = run_cli("redrive", *REDRIVE, flag, instrument=instrument)
    # THEN it replays the batch, saying it reads as a third reader with paced GetRecords calls
    assert result.code == 0, result.output
    assert (
        "as a third reader" in result.stderr
        and "GetRecords is paced at 1 call(s) per second" in result.stderr
    )
    assert reads and messages_left(sqs, url) == 0
    assert (plan_in(regions.replica, "b"), plan_in(regions.replica, "c")) == ("v2", "v2")


def test_redrive_beside_one_mapping_is_the_second_reader_and_goes_ahead(regions, queue):
    # GIVEN only the replicator's mapping on the stream (the usage metrics' disabled)
    sqs, url = queue
    failed_batch(regions, live_harness(regions), sqs, url)
    deployed = deploy(regions)
    deployed.lambda_.update_event_source_mapping(UUID=deployed.mappings["Users-usage-metrics"], Enabled=False)
    # WHEN redriven without the flag
    result = run_cli("redrive", *REDRIVE)
    # THEN it goes ahead without pacing
    assert result.code == 0, result.output
    assert "third reader" not in result.output and messages_left(sqs, url) == 0
