"""`check` end to end against moto in two regions: exactly the real differences, keys only."""

from __future__ import annotations

import json
import time

import pytest

from faultlab.faults import FaultInjector
from replicator.core import schema, version
from tests.support.cli import FAST, deliver_all, live_harness, run_cli
from tests.support.events import key

COMPARE = ["--ignore-attribute", "last_seen", "--exclude-attribute", "secret"]
SENTINEL = "SENTINEL-6c1f"  # planted in every item: must never appear in any output


def item(user, **extra):
    return {**key(user), "name": {"S": f"{SENTINEL}-{user}"}, "plan": {"S": "free"}, **extra}


def put_source(regions, user, **extra):
    regions.source.put_item(TableName="Users", Item=item(user, **extra))


def replica_item(regions, user):
    return regions.replica.get_item(TableName="Users", Key=key(user), ConsistentRead=True)["Item"]


@pytest.fixture
def seeded(regions):
    """A replica that differs from its source in every way the issue lists; three differences are real."""
    harness = live_harness(regions, EXCLUDE_ATTRIBUTES="secret")
    past = str(int(time.time()) - 3600)
    for n in range(12):
        put_source(regions, f"ok-{n}")
    for user in ("missing", "different", "metadata", "ignored", "in-flight", "expired"):
        put_source(regions, user, **({"expires_at": {"N": past}} if user == "expired" else {}))
    put_source(regions, "excluded", secret={"S": f"{SENTINEL}-secret"})
    put_source(regions, "legacy", **{"aws:rep:updateregion": {"S": "us-east-1"}})
    deliver_all(harness, regions)
    # Real differences, made behind the replicator's back:
    regions.replica.delete_item(TableName="Users", Key=key("missing"))
    regions.replica.put_item(
        TableName="Users", Item={**item("extra"), schema.VERSION_ATTRIBUTE: {"S": version.ZERO}}
    )
    regions.replica.put_item(
        TableName="Users", Item={**replica_item(regions, "different"), "plan": {"S": "pro"}}
    )
    # Not differences:
    regions.replica.put_item(
        TableName="Users",
        Item={**replica_item(regions, "metadata"), schema.VERSION_ATTRIBUTE: {"S": version.encode(1)}},
    )
    regions.replica.put_item(
        TableName="Users", Item={**replica_item(regions, "ignored"), "last_seen": {"N": "9"}}
    )
    regions.replica.delete_item(TableName="Users", Key=key("expired"))  # its TTL delete is on its way
    regions.replica.put_item(
        TableName="Users", Item=item("archived", expires_at={"N": past})
    )  # TTL_DELETES=skip
    put_source(regions, "in-flight", plan={"S": "enterprise"})  # its record is not delivered yet
    return harness


def test_check_reports_exactly_the_real_differences_with_keys_only(seeded, regions, tmp_path):
    report = tmp_path / "diff.json"
    waits = []

    def grace(seconds):
        # The in-flight change reaches the replica while the check waits, as it would live.
        waits.append(seconds)
        deliver_all(seeded, regions)

    # WHEN the check runs
    result = run_cli(
        "check",
        *FAST,
        "--grace-seconds",
        "2.5",
        "--segments",
        "3",
        "--page-size",
        "4",
        *COMPARE,
        "--json",
        str(report),
        grace_wait=grace,
    )
    # THEN exactly the missing, extra and different keys are reported, and exit code 1 says so
    assert result.code == 1, result.stderr
    assert waits == [2.5]
    document = result.document
    found = {(d["kind"], d["key"]["user_id"]["S"]) for d in document["differences"]}
    assert found == {("missing", "missing"), ("extra", "extra"), ("different", "different")}
    (different,) = [d for d in document["differences"] if d["kind"] == "different"]
    assert different["attributes"] == ["plan"]
    assert document["counts"] == {"missing": 1, "extra": 1, "different": 1, "unreplicable": 0}
    assert document["candidates"] == 4 and document["settledOnReread"] == 1  # the in-flight change
    assert document["expiredIgnored"] == 2
    assert document["sourceItems"] == 20 and document["replicaItems"] == 20
    # AND no item contents anywhere: only keys in the JSON, key hashes in the summary
    for text in (report.read_text(), result.stdout, result.stderr):
        assert SENTINEL not in text and "pro" not in text
    assert "DIFFERENCES: 3" in result.stdout
    assert all(d["keyHash"] in result.stdout for d in document["differences"])


def test_without_the_grace_reread_the_in_flight_change_would_be_reported(seeded, tmp_path):
    report = tmp_path / "diff.json"
    result = run_cli(
        "check",
        *FAST,
        *COMPARE,
        "--json",
        str(report),
    )
    assert result.code == 1
    found = {d["key"]["user_id"]["S"] for d in result.document["differences"]}
    assert found == {"missing", "extra", "different", "in-flight"}


def test_excluded_and_ignored_attributes_are_differences_unless_named(seeded, regions, tmp_path):
    deliver_all(seeded, regions)
    report = tmp_path / "diff.json"
    assert run_cli("check", *FAST, "--json", str(report)).code == 1
    found = {d["key"]["user_id"]["S"] for d in json.loads(report.read_text())["differences"]}
    assert found == {"missing", "extra", "different", "ignored", "excluded"}


def test_a_consistent_replica_exits_0(regions):
    harness = live_harness(regions)
    for n in range(25):
        put_source(regions, f"user-{n}")
    deliver_all(harness, regions)
    result = run_cli("check", *FAST, "--segments", "2")
    assert result.code == 0, result.stderr
    assert "CONSISTENT" in result.stdout


def test_throttled_scans_are_retried_never_dropped(regions, tmp_path):
    harness = live_harness(regions)
    for n in range(30):
        put_source(regions, f"user-{n}")
    deliver_all(harness, regions)
    injectors = []

    def throttle(client):
        scans = frozenset({"Scan"})
        injectors.append(FaultInjector(client, operations=scans).throttle_first(5))

    report = tmp_path / "diff.json"
    result = run_cli("check", *FAST, "--page-size", "7", "--json", str(report), instrument=throttle)
    assert result.code == 0, result.stderr
    document = result.document
    assert document["sourceItems"] == 30 and document["replicaItems"] == 30
    assert document["throttledRetries"] == 10
    assert [i.injected for i in injectors] == [{"400": 5}, {"400": 5}]


def test_throttling_that_never_ends_fails_with_a_clear_error(regions):
    def throttle(client):
        scans = frozenset({"Scan"})
        FaultInjector(client, operations=scans).fail_always(400, "ThrottlingException")

    result = run_cli(
        "check", "--grace-seconds", "0", "--retry-seconds", "0.2", "--no-progress", instrument=throttle
    )
    assert result.code == 2
    assert "kept failing" in result.stderr and "--max-read-units" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_sample_checks_the_same_keys_on_both_sides(regions, tmp_path):
    harness = live_harness(regions)
    users = [f"user-{n:03d}" for n in range(120)]
    for user in users:
        put_source(regions, user)
    deliver_all(harness, regions)
    broken = users[::4]
    for user in broken:
        regions.replica.delete_item(TableName="Users", Key=key(user))
    report = tmp_path / "diff.json"
    result = run_cli("check", *FAST, "--sample", "0.3", "--seed", "7", "--json", str(report))
    document = result.document
    found = {d["key"]["user_id"]["S"] for d in document["differences"]}
    # A part of the table was read, the differences found are real, and none was a false alarm.
    assert 10 <= document["sourceItems"] <= 80
    assert result.code == 1 and found and found <= set(broken)
    assert document["settledOnReread"] == 0
    assert document["sourceItems"] - document["replicaItems"] == len(found)


def test_tables_with_different_keys_are_an_error(regions):
    regions.replica.create_table(
        TableName="Other",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result = run_cli(
        "check",
        *FAST,
        "--state-table",
        "Users-replication-state",
        tables=["--source", "us-east-1/Users", "--replica", "eu-west-1/Other"],
    )
    assert result.code == 2
    assert "different key schemas" in result.stderr


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        pytest.param(
            ["--source", "us-east-1/Nope", "--replica", "eu-west-1/Users"],
            "'Nope' does not exist",
            id="missing",
        ),
        pytest.param(["--source", "Users", "--replica", "eu-west-1/Users"], "REGION/TABLE", id="malformed"),
    ],
)
def test_operator_errors_exit_2_with_a_message_and_no_traceback(regions, tables, message):
    result = run_cli("check", *FAST, tables=tables)
    assert result.code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_report_path_that_cannot_be_written_is_an_error(regions, tmp_path):
    result = run_cli("check", *FAST, "--json", str(tmp_path / "no-such-dir" / "diff.json"))
    assert result.code == 2
    assert "--json" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_needs_no_state_table(regions):
    regions.replica.delete_table(TableName="Users-replication-state")
    assert run_cli("check", *FAST).code == 0
    result = run_cli("repair", *FAST)
    assert result.code == 2 and "state table" in result.stderr
