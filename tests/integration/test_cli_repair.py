"""`repair`: confirmed differences are fixed from the source, never over a newer replicated change."""

from __future__ import annotations

from typing import Any

import boto3

from replicator.core import schema, version
from tests.support.cli import FAST, deliver_all, live_harness, run_cli
from tests.support.events import key
from tests.support.replication import scan_all, without_metadata


def item(user, plan="free"):
    return {**key(user), "plan": {"S": plan}}


def get(client, user):
    return client.get_item(TableName="Users", Key=key(user), ConsistentRead=True).get("Item")


def diverge(regions):
    """A replicated table, then missing, extra and different keys made behind the replicator's back."""
    harness = live_harness(regions)
    for user in ("a", "b", "missing", "different", "gone"):
        regions.source.put_item(TableName="Users", Item=item(user))
    deliver_all(harness, regions)
    regions.replica.delete_item(TableName="Users", Key=key("missing"))
    regions.replica.put_item(
        TableName="Users", Item={**item("extra"), schema.VERSION_ATTRIBUTE: {"S": version.ZERO}}
    )
    regions.replica.put_item(
        TableName="Users", Item={**get(regions.replica, "different"), "plan": {"S": "pro"}}
    )
    regions.source.delete_item(TableName="Users", Key=key("gone"))
    regions.tap.read()  # the REMOVE of "gone" is lost (it aged out of the stream after failing)
    return harness


def test_repair_then_check_finds_nothing(regions, tmp_path):
    harness = diverge(regions)
    report = tmp_path / "repair.json"
    # WHEN the operator repairs
    result = run_cli("repair", *FAST, "--segments", "2", "--json", str(report))
    # THEN every confirmed difference is repaired and a second check is clean
    assert result.code == 0, result.stderr
    repairs = {
        r["key"]["user_id"]["S"]: (r["kind"], r["status"], r["outcome"]) for r in result.document["repairs"]
    }
    assert repairs == {
        "missing": ("missing", "repaired", "written"),
        "extra": ("extra", "repaired", "deleted"),
        "different": ("different", "repaired", "written"),
        "gone": ("extra", "repaired", "deleted"),
    }
    assert run_cli("check", *FAST).code == 0
    assert {k: without_metadata(v) for k, v in _by_user(regions.replica).items()} == _by_user(regions.source)
    # AND a late replay of the lost insert of "gone" cannot bring it back: a tombstone guards it
    regions.source.put_item(TableName="Users", Item=item("other"))
    deliver_all(harness, regions)
    assert get(regions.replica, "gone") is None


def _by_user(client):
    return {i["user_id"]["S"]: i for i in scan_all(client, "Users")}


def racing_change(regions, harness, *, user, plan):
    """A hook on the CLI's replica client: before the repair's first write, a newer change replicates."""
    calls = []

    def instrument(client):
        if client.meta.service_model.service_name != "dynamodb" or client.meta.region_name != "eu-west-1":
            return

        def before_write(**_):
            calls.append(1)
            if len(calls) == 1:
                regions.source.put_item(TableName="Users", Item=item(user, plan))
                deliver_all(harness, regions)

        client.meta.events.register("before-call.dynamodb.TransactWriteItems", before_write)

    return instrument, calls


def test_a_repair_racing_a_newer_replicated_change_keeps_the_newer_change(regions):
    harness = diverge(regions)
    instrument, calls = racing_change(regions, harness, user="different", plan="enterprise")
    # WHEN a repair of "different" is overtaken by a newer change the replicator applies first
    result = run_cli("repair", *FAST, "--segments", "1", instrument=instrument)
    # THEN the repair backs off, reads again, and the newer change is what the replica holds
    assert result.code == 0, result.stderr
    assert get(regions.replica, "different")["plan"] == {"S": "enterprise"}
    assert len(calls) == 5  # 4 keys, plus one retry after the conflict
    assert run_cli("check", *FAST).code == 0


def test_a_repair_that_keeps_losing_the_race_gives_up_and_leaves_the_newer_change(regions, tmp_path):
    harness = diverge(regions)
    instrument, _ = racing_change(regions, harness, user="different", plan="enterprise")
    report = tmp_path / "repair.json"
    result = run_cli(
        "repair", *FAST, "--segments", "1", "--attempts", "1", "--json", str(report), instrument=instrument
    )
    assert result.code == 1
    statuses = {r["key"]["user_id"]["S"]: r["status"] for r in result.document["repairs"]}
    assert statuses == {
        "different": "gave_up",
        "extra": "repaired",
        "gone": "repaired",
        "missing": "repaired",
    }
    assert get(regions.replica, "different")["plan"] == {"S": "enterprise"}
    assert "gave up (replica kept changing) 1" in result.stdout


def test_repair_warns_when_the_failure_queue_still_holds_messages(regions):
    diverge(regions)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="Users-replication-failures")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    result = run_cli("repair", *FAST, "--failure-queue", "Users-replication-failures")
    assert result.code == 0
    assert "run `redrive` first" in result.stderr


def test_check_with_repair_is_repair(regions):
    diverge(regions)
    assert run_cli("check", *FAST, "--repair").code == 0
    assert run_cli("check", *FAST).code == 0


def test_a_repair_that_does_not_hold_is_reported_not_assumed(regions, tmp_path):
    diverge(regions)

    def undo_after_write(client):
        # Someone writes to the replica behind everyone's back right after the repair of "different".
        if client.meta.service_model.service_name != "dynamodb" or client.meta.region_name != "eu-west-1":
            return

        writing: list[Any] = []

        def before_write(params, **_):
            writing[:] = [params["TransactItems"][0].get("Put")]

        def after_write(**_):
            put = writing[0]
            if put and put["Item"]["user_id"]["S"] == "different":
                regions.replica.put_item(TableName="Users", Item={**put["Item"], "plan": {"S": "tampered"}})

        client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", before_write)
        client.meta.events.register("after-call.dynamodb.TransactWriteItems", after_write)

    report = tmp_path / "repair.json"
    result = run_cli("repair", *FAST, "--segments", "1", "--json", str(report), instrument=undo_after_write)
    assert result.code == 1
    statuses = {r["key"]["user_id"]["S"]: r["status"] for r in result.document["repairs"]}
    assert statuses["different"] == "still_different"
    assert [s for u, s in statuses.items() if u != "different"] == ["repaired"] * 3
