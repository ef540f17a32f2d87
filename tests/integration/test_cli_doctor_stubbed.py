"""What moto cannot produce, with botocore's Stubber: a stream's shards over several DescribeStream
pages (moto has one shard and no paging), and IAM's policy simulator (moto 5.2.5 does not implement
iam:SimulatePrincipalPolicy). The Stubber checks the exact parameters of every call."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from replicator.cli.doctor import gather, iam, lineage
from replicator.cli.doctor.attempt import Attempt
from replicator.cli.doctor.findings import Status, Unreadable
from replicator.cli.doctor.views import SimulationView
from replicator.cli.options import SideOptions, TableRef
from replicator.cli.sides import Side

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"
ROLE = "arn:aws:iam::123456789012:role/Users-replicator-us-east-1"
PARENT, CHILD_1, CHILD_2 = (f"shardId-00000001700000000000-{n:08x}" for n in (1, 2, 3))


def seq(n: int) -> str:
    """A sequence number as DynamoDB writes them (21 digits at least)."""
    return str(100_000_000_000_000_000_000 + n)


@pytest.fixture
def attempt() -> Attempt:
    side = Side(SideOptions(TableRef("us-east-1", "Users"), None, "--endpoint-url", None, None), "source")
    return Attempt(side)


def shard(shard_id: str, start: str, end: str | None = None, parent: str | None = None) -> dict[str, Any]:
    numbers = {"StartingSequenceNumber": start} | ({"EndingSequenceNumber": end} if end else {})
    return {"ShardId": shard_id, "SequenceNumberRange": numbers} | (
        {"ParentShardId": parent} if parent else {}
    )


def page(shards: list[dict[str, Any]], last: str | None = None) -> dict[str, Any]:
    description: dict[str, Any] = {
        "StreamArn": STREAM,
        "StreamStatus": "ENABLED",
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    description |= {"Shards": shards} | ({"LastEvaluatedShardId": last} if last else {})
    return {"StreamDescription": description}


def test_lineage_follows_every_describe_stream_page_and_names_the_shards_that_break_it(attempt):
    # GIVEN a stream whose parent is on the first page and whose children are on the second, one of
    # them starting below its parent's end
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    stubber = Stubber(streams)
    first = [shard(PARENT, seq(100), seq(900))]
    second = [shard(CHILD_1, seq(901), parent=PARENT), shard(CHILD_2, seq(850), parent=PARENT)]
    stubber.add_response("describe_stream", page(first, last=PARENT), {"StreamArn": STREAM})
    stubber.add_response(
        "describe_stream", page(second), {"StreamArn": STREAM, "ExclusiveStartShardId": PARENT}
    )
    # WHEN the doctor reads the stream and checks the lineage
    with stubber:
        view = gather.read_stream(attempt, streams, STREAM)
    # THEN it asked for both pages, saw all three shards, and the failure names the child and its parent
    stubber.assert_no_pending_responses()
    assert not isinstance(view, Unreadable) and view is not None and len(view.shards) == 3
    found = lineage.finding(view)
    assert found.status is Status.FAIL
    assert found.reason == (
        f"shard {CHILD_2} starts at {seq(850)}, not above the end {seq(900)} of its parent {PARENT}"
    )


def test_a_refused_describe_stream_is_a_warning_naming_the_permission(attempt):
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    stubber = Stubber(streams)
    stubber.add_client_error("describe_stream", "AccessDeniedException", http_status_code=400)
    with stubber:
        view = gather.read_stream(attempt, streams, STREAM)
    found = lineage.finding(view)
    assert found.status is Status.WARN
    assert found.reason == (
        "could not read the stream's shards (AccessDeniedException; needs permission dynamodb:DescribeStream)"
    )


def result(action: str, resource: str, decision: str) -> dict[str, str]:
    return {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision}


def test_deep_asks_the_policy_simulator_about_each_resource_with_the_role_that_needs_it(attempt):
    # GIVEN what the replicator needs: reading the stream (as the function's role) and writing the
    # replica (as the replica account's role)
    needs = [
        iam.Need("function", ("dynamodb:GetRecords",), STREAM),
        iam.Need(
            "replica", ("dynamodb:PutItem", "dynamodb:DeleteItem"), "arn:aws:dynamodb:eu-west-1:2:table/Users"
        ),
    ]
    writer = "arn:aws:iam::210987654321:role/Users-writer"
    source_iam, replica_iam = boto3.client("iam"), boto3.client("iam")
    source_stub, replica_stub = Stubber(source_iam), Stubber(replica_iam)
    source_stub.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [result("dynamodb:GetRecords", STREAM, "allowed")], "IsTruncated": False},
        {"PolicySourceArn": ROLE, "ActionNames": ["dynamodb:GetRecords"], "ResourceArns": [STREAM]},
    )
    replica_arn = "arn:aws:dynamodb:eu-west-1:2:table/Users"
    replica_stub.add_response(
        "simulate_principal_policy",
        {
            "EvaluationResults": [
                result("dynamodb:PutItem", replica_arn, "allowed"),
                result("dynamodb:DeleteItem", replica_arn, "implicitDeny"),
            ],
            "IsTruncated": False,
        },
        {
            "PolicySourceArn": writer,
            "ActionNames": ["dynamodb:PutItem", "dynamodb:DeleteItem"],
            "ResourceArns": [replica_arn],
        },
    )
    # WHEN the doctor simulates
    with source_stub, replica_stub:
        view = gather.simulate(
            attempt,
            {"function": source_iam, "replica": replica_iam},
            {"function": ROLE, "replica": writer},
            needs,
        )
    # THEN each role was asked about its own resources, and the denied action is the failure
    source_stub.assert_no_pending_responses()
    replica_stub.assert_no_pending_responses()
    assert isinstance(view, SimulationView) and view.roles == (ROLE, writer)
    found = iam.verdict(view)
    assert found.status is Status.FAIL
    assert found.reason == f"denied: dynamodb:DeleteItem on {replica_arn} (implicitDeny)"


def test_a_role_that_may_not_simulate_is_a_warning(attempt):
    client = boto3.client("iam")
    stubber = Stubber(client)
    stubber.add_client_error("simulate_principal_policy", "AccessDenied", http_status_code=403)
    with stubber:
        view = gather.simulate(
            attempt, {"function": client}, {"function": ROLE}, [iam.Need("function", ("a:b",), "*")]
        )
    assert isinstance(view, Unreadable)
    assert view.finding("iam").reason == (
        "could not read the replicator role's permissions (AccessDenied; needs permission "
        "iam:SimulatePrincipalPolicy)"
    )
