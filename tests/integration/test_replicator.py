"""The replicator against moto in two regions, fed with records read from moto's own stream."""

from __future__ import annotations

import copy
import json
from typing import Any, cast

import boto3
import pytest

from faultlab.faults import FaultInjector
from localrun.aws.tables import create_replica_tables
from replicator import handler as entry
from replicator.core import errors, schema
from telemetry import catalogue
from tests.support.error_classes import produce_every_error_class
from tests.support.events import key, mark_ttl_delete
from tests.support.replication import Harness


def put(regions, user, ts=1, **attrs):
    regions.source.put_item(TableName="Users", Item={**key(user, ts), **attrs})


def delete(regions, user: str, ts: int = 1) -> None:
    regions.source.delete_item(TableName="Users", Key=key(user, ts))


@pytest.fixture
def harness(regions) -> Harness:
    return Harness(regions)


def test_inserts_modifies_and_removes_reach_the_replica(regions, harness):
    # GIVEN changes of three items in the source
    put(regions, "alice", plan={"S": "free"})
    put(regions, "bob")
    regions.source.update_item(
        TableName="Users",
        Key=key("alice"),
        UpdateExpression="SET #p = :p",
        ExpressionAttributeNames={"#p": "plan"},
        ExpressionAttributeValues={":p": {"S": "pro"}},
    )
    put(regions, "carol")
    delete(regions, "bob")
    # WHEN the stream's records are delivered
    response = harness.deliver(regions.tap.read_event())
    # THEN the replica equals the source and nothing failed
    assert response == {"batchItemFailures": []}
    assert harness.replica() == harness.source()
    assert len(harness.replica()) == 2


def test_the_same_batch_twice_changes_nothing_the_second_time(regions, harness):
    put(regions, "alice", n={"N": "1"})
    put(regions, "alice", n={"N": "2"})
    put(regions, "bob")
    delete(regions, "bob")
    event = regions.tap.read_event()
    harness.deliver(event)
    versions = harness.replica_versions()
    # WHEN the identical batch arrives again (at-least-once delivery)
    second = harness.deliver(copy.deepcopy(event))
    # THEN it is recognised as already applied and the replica is unchanged
    assert second == {"batchItemFailures": []}
    assert harness.replica_versions() == versions
    assert harness.replica() == harness.source()
    assert harness.metric_total("RecordsSkipped", Reason="AlreadyApplied") == 2
    assert harness.metric_total("RecordsReplicated") == 2  # only the first delivery wrote


def test_partial_failure_then_retry_from_the_lowest_failed_record(regions, harness):
    # GIVEN a batch whose first writes are throttled beyond the invocation's time
    for user in ("a", "b", "c", "d"):
        put(regions, user)
    event = regions.tap.read_event()
    faults = FaultInjector(harness.replicator.writer.client, operations=frozenset({"TransactWriteItems"}))
    faults.fail_always(400, "ProvisionedThroughputExceededException")
    first = harness.deliver(event, timeout=2.0)
    failed = harness.failed_sequences(first)
    assert failed, "writes that could not be confirmed must be reported"
    assert harness.replica() == {}
    # WHEN Lambda retries from the lowest failed sequence number after the throttling ends
    faults._before.clear()
    lowest = min(failed, key=int)
    retry = {"Records": [r for r in event["Records"] if int(r["dynamodb"]["SequenceNumber"]) >= int(lowest)]}
    second = harness.deliver(retry)
    # THEN everything converges
    assert second == {"batchItemFailures": []}
    assert harness.replica() == harness.source()


def test_insert_remove_then_the_insert_replayed_does_not_resurrect(regions, harness):
    put(regions, "alice", plan={"S": "pro"})
    insert_event = regions.tap.read_event()
    harness.deliver(insert_event)
    delete(regions, "alice")
    harness.deliver(regions.tap.read_event())
    assert harness.replica() == {}
    # WHEN the old INSERT is delivered again, in a later invocation (a replay or a redrive)
    response = harness.deliver(copy.deepcopy(insert_event))
    # THEN the tombstone wins: the item stays deleted, and readers never see the tombstone
    assert response == {"batchItemFailures": []}
    assert harness.replica() == {}
    assert len(harness.tombstones()) == 1
    assert harness.metric_total("RecordsSkipped", Reason="DeletedLater") == 1


def test_a_re_insert_after_a_delete_is_replicated(regions, harness):
    put(regions, "alice", n={"N": "1"})
    delete(regions, "alice")
    put(regions, "alice", n={"N": "2"})
    for record in regions.tap.read():  # one record per invocation
        harness.deliver({"Records": [record]})
    assert harness.replica() == harness.source()
    assert harness.replica()[next(iter(harness.replica()))]["n"] == {"N": "2"}


def test_an_older_record_after_a_newer_one_is_skipped_as_stale(regions, harness):
    put(regions, "alice", v={"S": "v1"})
    put(regions, "alice", v={"S": "v2"})
    put(regions, "alice", v={"S": "v3"})
    _v1, v2, v3 = regions.tap.read()
    harness.deliver({"Records": [v3]})
    response = harness.deliver({"Records": [v2]})
    assert response == {"batchItemFailures": []}
    assert harness.replica() == harness.source()
    assert harness.metric_total("RecordsSkipped", Reason="Stale") == 1


def ttl_event(regions, user):
    """A REMOVE read from moto's stream, marked the way DynamoDB marks deletes by its TTL process."""
    delete(regions, user)
    event = regions.tap.read_event()
    mark_ttl_delete(event["Records"][-1])
    return event


def test_ttl_deletes_are_replicated_by_default(regions, harness):
    put(regions, "alice", expires_at={"N": "1"})
    harness.deliver(regions.tap.read_event())
    harness.deliver(ttl_event(regions, "alice"))
    assert harness.replica() == {}


def test_ttl_deletes_are_kept_in_the_replica_under_the_skip_policy(regions):
    harness = Harness(
        regions, env={"REPLICA_TABLE_NAME": "Users", "REPLICA_REGION": "eu-west-1", "TTL_DELETES": "skip"}
    )
    put(regions, "alice", expires_at={"N": "1"})
    put(regions, "bob")
    harness.deliver(regions.tap.read_event())
    harness.deliver(ttl_event(regions, "alice"))
    delete(regions, "bob")  # a user delete is still replicated
    harness.deliver(regions.tap.read_event())
    replica = harness.replica()
    assert [item["user_id"]["S"] for item in replica.values()] == ["alice"]
    assert harness.metric_total("RecordsSkipped", Reason="TtlPolicy") == 1


AWKWARD = {
    "empty_string": {"S": ""},
    "big": {"N": "-1.2345678901234567890123456789012345678E+125"},
    "tiny": {"N": "1E-130"},
    "exact": {"N": "99999999999999999999999999999999999999"},
    "bin": {"B": bytes(range(256))},
    "bins": {"BS": [b"\x00", b"\xff\xfe", b"plain"]},
    "strings": {"SS": ["a", "b", "\u00e9\u4e2d"]},
    "numbers": {"NS": ["0.1", "12345678901234567890123456789012345678"]},
    "flag": {"BOOL": False},
    "nothing": {"NULL": True},
    "empty_list": {"L": []},
    "empty_map": {"M": {}},
    "doc": {"M": {"list": {"L": [{"N": "1"}, {"B": b"\x01"}, {"M": {"deep": {"SS": ["x"]}}}]}}},
    "select": {"S": "a reserved word as an attribute name"},
}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(depth - 1):
        value = {"M": {"x": value}}
    return value


def test_every_attribute_type_arrives_byte_identical(regions, harness):
    put(regions, "alice", **AWKWARD, deep=nested(32))
    harness.deliver(regions.tap.read_event())
    stored = regions.replica.get_item(TableName="Users", Key=key("alice"), ConsistentRead=True)["Item"]
    source = regions.source.get_item(TableName="Users", Key=key("alice"), ConsistentRead=True)["Item"]
    stored.pop(schema.VERSION_ATTRIBUTE)
    assert stored == source
    assert stored["bin"] == {"B": bytes(range(256))}
    assert stored["exact"] == {"N": "99999999999999999999999999999999999999"}


def largest_accepted_string(regions) -> int:
    """The longest string attribute the (moto) source table accepts in one item."""
    low, high = 1, 420_000
    probe = key("probe")
    while low < high:
        mid = (low + high + 1) // 2
        try:
            regions.source.put_item(TableName="Users", Item={**probe, "data": {"S": "x" * mid}})
            low = mid
        except regions.source.exceptions.ClientError:
            high = mid - 1
    delete(regions, "probe")
    return low


def test_an_item_pushed_over_400_kb_by_metadata_fails_alone(regions, harness):
    size = largest_accepted_string(regions)
    regions.tap.read()  # the probes' records are not part of this scenario
    put(regions, "big", data={"S": "x" * size})
    put(regions, "small")
    event = regions.tap.read_event()
    response = harness.deliver(event)
    big_sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert harness.failed_sequences(response) == [big_sequence]
    assert [item["user_id"]["S"] for item in harness.replica().values()] == ["small"]
    errors = [json.loads(line) for line in harness.log_lines() if '"record not replicated"' in line]
    assert [(e["errorClass"], e["sequenceNumber"]) for e in errors] == [("ItemTooLarge", big_sequence)]
    # Lambda keeps a JSON line at its level only with a valid timestamp (telemetry/logs.py)
    assert [(e["level"], e["timestamp"][-1]) for e in errors] == [("ERROR", "Z")]
    assert "xxxxxxxx" not in harness.output.getvalue()


def test_throttling_is_retried_until_the_write_succeeds(regions, harness):
    put(regions, "alice")
    put(regions, "bob")
    faults = FaultInjector(harness.replicator.writer.client).throttle_first(4)
    response = harness.deliver(regions.tap.read_event())
    assert response == {"batchItemFailures": []}
    assert faults.injected == {"400": 4}
    assert harness.replica() == harness.source()
    assert harness.metric_total("ReplicaThrottles") == 4


def test_unfinished_writes_are_reported_when_the_invocation_runs_out_of_time(regions, harness):
    put(regions, "alice")
    event = regions.tap.read_event()
    response = harness.deliver(event, timeout=1.5)
    assert harness.failed_sequences(response) == [event["Records"][0]["dynamodb"]["SequenceNumber"]]
    assert harness.metric_total("RecordsFailed", ErrorClass="DeadlineExceeded") == 1
    assert harness.replica() == {}


def test_a_malformed_record_fails_alone(regions, harness):
    put(regions, "alice")
    put(regions, "bob")
    event = regions.tap.read_event()
    bad = copy.deepcopy(event["Records"][0])
    bad["dynamodb"]["SequenceNumber"] = str(int(bad["dynamodb"]["SequenceNumber"]) + 1000)
    bad["dynamodb"]["NewImage"]["data"] = {"X": "not a type"}
    event["Records"].append(bad)
    response = harness.deliver(event)
    assert harness.failed_sequences(response) == [bad["dynamodb"]["SequenceNumber"]]
    assert harness.replica() == harness.source()


def test_a_record_without_sequence_number_fails_the_invocation_so_lambda_bisects(regions, harness):
    put(regions, "alice")
    event = regions.tap.read_event()
    broken = copy.deepcopy(event["Records"][0])
    del broken["dynamodb"]["SequenceNumber"]
    event["Records"].append(broken)
    with pytest.raises(Exception, match="without a SequenceNumber"):
        harness.deliver(event)
    assert harness.replica() == harness.source()  # the good record was still written


def test_keys_only_records_are_poison(regions, harness):
    put(regions, "alice")
    event = regions.tap.read_event()
    record = event["Records"][0]
    del record["dynamodb"]["NewImage"]
    record["dynamodb"]["StreamViewType"] = "KEYS_ONLY"
    response = harness.deliver(event)
    assert harness.failed_sequences(response) == [record["dynamodb"]["SequenceNumber"]]
    assert harness.metric_total("RecordsFailed", ErrorClass="MalformedInput") == 1


def test_a_key_that_does_not_fit_the_replica_schema_fails_alone(regions, harness):
    put(regions, "alice")
    event = regions.tap.read_event()
    wrong = copy.deepcopy(event["Records"][0])
    wrong["dynamodb"]["SequenceNumber"] = str(int(wrong["dynamodb"]["SequenceNumber"]) + 7)
    for image in ("Keys", "NewImage"):
        wrong["dynamodb"][image]["user_id"] = {"N": "42"}
    event["Records"].append(wrong)
    response = harness.deliver(event)
    assert harness.failed_sequences(response) == [wrong["dynamodb"]["SequenceNumber"]]
    assert harness.metric_total("RecordsFailed", ErrorClass="KeySchemaMismatch") == 1
    assert len(harness.replica()) == 1


def test_an_attribute_named_like_the_metadata_is_a_clear_poison_error(regions, harness):
    put(regions, "alice", **{"repl:version": {"S": "mine"}})
    put(regions, "bob")
    response = harness.deliver(regions.tap.read_event())
    assert len(response["batchItemFailures"]) == 1
    assert harness.metric_total("RecordsFailed", ErrorClass="MetadataCollision") == 1
    assert [item["user_id"]["S"] for item in harness.replica().values()] == ["bob"]


def test_excluded_and_legacy_attributes_never_reach_the_replica(regions):
    env = {"REPLICA_TABLE_NAME": "Users", "REPLICA_REGION": "eu-west-1", "EXCLUDE_ATTRIBUTES": "email,phone"}
    harness = Harness(regions, env=env)
    put(
        regions,
        "alice",
        email={"S": "SENTINEL-EMAIL"},
        phone={"S": "SENTINEL-PHONE"},
        plan={"S": "pro"},
        **{"aws:rep:updateregion": {"S": "us-west-2"}},
    )
    harness.deliver(regions.tap.read_event())
    (item,) = harness.replica().values()
    assert set(item) == {"user_id", "timestamp", "plan"}
    assert "SENTINEL" not in harness.output.getvalue()


def test_a_scan_of_the_replica_shows_exactly_the_live_items(regions, harness):
    for user in ("a", "b", "c"):
        put(regions, user)
    delete(regions, "b")
    harness.deliver(regions.tap.read_event())
    scanned = regions.replica.scan(TableName="Users")["Items"]
    assert sorted(i["user_id"]["S"] for i in scanned) == ["a", "c"]
    assert all(set(i) == {"user_id", "timestamp", schema.VERSION_ATTRIBUTE} for i in scanned)


def test_a_redrive_of_an_old_batch_after_newer_changes_keeps_the_newer_state(regions, harness):
    put(regions, "alice", v={"S": "old"})
    put(regions, "bob", v={"S": "old"})
    old_batch = regions.tap.read_event()
    harness.deliver(old_batch)
    put(regions, "alice", v={"S": "new"})
    delete(regions, "bob")
    harness.deliver(regions.tap.read_event())
    # WHEN the old batch is redriven much later
    response = harness.deliver(copy.deepcopy(old_batch))
    # THEN neither the update nor the delete is undone
    assert response == {"batchItemFailures": []}
    assert harness.replica() == harness.source()


def test_the_replicator_can_write_into_another_account_through_an_assumed_role(regions):
    # GIVEN the replica tables live in another account, reachable through a role
    role_arn = "arn:aws:iam::210987654321:role/replica-writer"
    sts = boto3.client("sts", region_name="us-east-1")
    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="setup")["Credentials"]
    other = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id=assumed["AccessKeyId"],
        aws_secret_access_key=assumed["SecretAccessKey"],
        aws_session_token=assumed["SessionToken"],
    )
    create_replica_tables(other, regions.config)
    env = {"REPLICA_TABLE_NAME": "Users", "REPLICA_REGION": "eu-west-1", "REPLICA_ROLE_ARN": role_arn}
    harness = Harness(regions, env=env)
    # WHEN records are replicated
    put(regions, "alice")
    response = harness.deliver(regions.tap.read_event())
    # THEN they land in the other account's table, not in the default account's
    assert response == {"batchItemFailures": []}
    assert other.scan(TableName="Users")["Count"] == 1
    assert regions.replica.scan(TableName="Users")["Count"] == 0
    # AND the assumed-role credentials refresh themselves when they expire
    credentials = cast(Any, harness.replicator.writer.client)._request_signer._credentials
    assert credentials.method == "assume-role"
    credentials._expiry_time = credentials._expiry_time.replace(year=2000)
    assert credentials.refresh_needed()
    assert credentials.get_frozen_credentials().account_id == "210987654321"
    assert not credentials.refresh_needed()  # fetched anew from STS


def test_replication_metrics_are_valid_emf_and_match_what_happened(regions, harness):
    # GIVEN a batch with inserts, a coalesced modify, a delete, a duplicate and a poison record
    put(regions, "a")
    put(regions, "b")
    put(regions, "b", plan={"S": "pro"})
    put(regions, "c")
    delete(regions, "c")
    first = regions.tap.read_event()
    harness.deliver({"Records": first["Records"][:1]})  # "a" is already there: the duplicate
    poison = copy.deepcopy(first["Records"][1])
    poison["dynamodb"]["SequenceNumber"] = str(int(first["Records"][-1]["dynamodb"]["SequenceNumber"]) + 1)
    poison["dynamodb"]["NewImage"]["repl:version"] = {"S": "SENTINEL-PII"}
    harness.output.truncate(0)
    harness.output.seek(0)
    # WHEN the whole batch is delivered
    harness.deliver({"Records": [*first["Records"], poison]})
    documents = harness.emf_documents()
    # THEN one document per dimension set, all valid EMF, and the counts add up to the batch
    assert len(documents) == 1 + 2 + 2 + 1  # totals, 2 operations, 2 skip reasons, 1 error class
    assert harness.metric_total("RecordsReplicated", Operation="MODIFY") == 1  # b, coalesced
    assert harness.metric_total("RecordsReplicated", Operation="REMOVE") == 1  # c
    assert harness.metric_total("RecordsSkipped", Reason="AlreadyApplied") == 1  # a
    assert harness.metric_total("RecordsSkipped", Reason="Superseded") == 2  # b's insert, c's insert
    assert harness.metric_total("RecordsFailed", ErrorClass="MetadataCollision") == 1
    total = sum(harness.metric_total(m) for m in ("RecordsReplicated", "RecordsSkipped", "RecordsFailed"))
    assert total == 6
    assert harness.metric_total("ReplicaWrites") == 3
    (lag,) = [s for d in documents for s in d.series if s.metric == "ReplicationLagMs"]
    assert len(lag.values) == 2 and all(0 <= v < 60_000 for v in lag.values)
    assert "SENTINEL-PII" not in harness.output.getvalue()


def test_the_lambda_entry_point_reads_its_settings_from_the_environment(regions, monkeypatch, capsys):
    monkeypatch.setattr(entry, "_handler", None)
    monkeypatch.setenv("REPLICA_TABLE_NAME", "Users")
    monkeypatch.setenv("REPLICA_REGION", "eu-west-1")
    put(regions, "alice")
    response = entry.handler(regions.tap.read_event(), None)
    assert response == {"batchItemFailures": []}
    assert regions.replica.scan(TableName="Users")["Count"] == 1
    assert '"RecordsReplicated": 1.0' in capsys.readouterr().out


def concrete_error_classes(base: type) -> set[str]:
    found: set[str] = set()
    sub: type
    for sub in base.__subclasses__():
        found |= concrete_error_classes(sub)
        if not sub.__subclasses__():
            found.add(sub.__name__)
    return found


def test_every_error_class_the_replicator_can_report_is_in_the_catalogue_and_is_produced(regions):
    # The ErrorClass dimension is a closed set, so dashboards and alarms can list it.
    declared = set(catalogue.ERROR_CLASSES)
    assert (
        concrete_error_classes(errors.ReplicatorError) - {"ConfigurationError"} | {"InternalError"}
        == declared
    )
    lines, reported = produce_every_error_class(regions)
    assert reported == declared
    assert all("a defect" not in line for line in lines)  # an unexpected exception's text is not logged
