"""The doctor's reads: what AWS holds, as views (read-only: Describe, List, Get and the IAM policy
simulator). Each call goes through an :class:`~replicator.cli.doctor.attempt.Attempt`, which sorts
its failures into missing, unreadable (a warning) or fatal (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from replicator.cli.doctor import iam
from replicator.cli.doctor.attempt import Attempt
from replicator.cli.doctor.facts import Facts, TableFacts
from replicator.cli.doctor.findings import Unreadable
from replicator.cli.doctor.readers import ReaderBudget
from replicator.cli.doctor.runtime import is_replicator
from replicator.cli.doctor.views import (
    Decision,
    FunctionView,
    MappingView,
    PitrView,
    QueueView,
    ShardView,
    SimulationView,
    StreamView,
    TableView,
    TtlView,
)
from replicator.cli.redrive import queue_region

_QUEUE_COUNTS: Any = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


def describe_table(attempt: Attempt, dynamodb: Any, role: str, name: str) -> TableView | Unreadable | None:
    return attempt(
        lambda: TableView.from_description(dynamodb.describe_table(TableName=name)["Table"]),
        what=f"the {role} table {name!r}",
        permission="dynamodb:DescribeTable",
    )


def read_table(attempt: Attempt, dynamodb: Any, role: str, name: str) -> TableFacts:
    """The table, its TTL and its backups (the latter two only when the table exists)."""
    region = attempt.side.region
    where = f"the {role} table {name!r}"
    table = describe_table(attempt, dynamodb, role, name)
    if table is None:
        return TableFacts(role, name, region, None)

    def ttl() -> TtlView:
        return TtlView.from_description(
            dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        )

    def pitr() -> PitrView:
        answer = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        return PitrView.from_description(answer)

    return TableFacts(
        role,
        name,
        region,
        table,
        ttl=attempt(ttl, what=f"{where}'s TTL setting", permission="dynamodb:DescribeTimeToLive"),
        pitr=attempt(pitr, what=f"{where}'s backups", permission="dynamodb:DescribeContinuousBackups"),
    )


def read_stream(attempt: Attempt, streams: Any, arn: str) -> StreamView | Unreadable | None:
    def describe() -> StreamView:
        shards: list[ShardView] = []
        start: dict[str, str] = {}
        while True:
            answer = streams.describe_stream(StreamArn=arn, **start)["StreamDescription"]
            shards.extend(ShardView.from_description(s) for s in answer.get("Shards", []))
            last = answer.get("LastEvaluatedShardId")
            if not last:
                return StreamView(
                    arn, str(answer.get("StreamStatus", "")), answer.get("StreamViewType"), tuple(shards)
                )
            start = {"ExclusiveStartShardId": last}

    return attempt(describe, what="the stream's shards", permission="dynamodb:DescribeStream")


def read_mappings(attempt: Attempt, lambda_: Any, arn: str) -> tuple[MappingView, ...] | Unreadable:
    def listing() -> tuple[MappingView, ...]:
        pages = lambda_.get_paginator("list_event_source_mappings").paginate(EventSourceArn=arn)
        return tuple(MappingView.from_description(m) for page in pages for m in page["EventSourceMappings"])

    found = attempt(
        listing, what="the stream's event source mappings", permission="lambda:ListEventSourceMappings"
    )
    return () if found is None else found


def read_budget(
    attempt: Attempt, dynamodb: Any, lambda_: Any, table: str
) -> ReaderBudget | Unreadable | None:
    """The readers of ``table``'s stream (None when it has no stream): the third-reader guard's input."""
    view = describe_table(attempt, dynamodb, "source", table)
    if isinstance(view, Unreadable):
        return view
    if view is None or not view.stream_arn:
        return None
    mappings = read_mappings(attempt, lambda_, view.stream_arn)
    if isinstance(mappings, Unreadable):
        return mappings
    return ReaderBudget(view.stream_arn, mappings, global_table=view.global_table)


def read_function(
    attempt: Attempt,
    lambda_: Any,
    mappings: tuple[MappingView, ...] | Unreadable | None,
    given: str | None,
    replica_table: str,
) -> FunctionView | Unreadable | None:
    """``--function``, else the replicator among the functions of the stream's mappings (the one
    writing ``replica_table`` first)."""
    permission = "lambda:GetFunctionConfiguration"

    def configuration(name: str) -> FunctionView | Unreadable | None:
        return attempt(
            lambda: FunctionView.from_configuration(lambda_.get_function_configuration(FunctionName=name)),
            what=f"the function {name!r}",
            permission=permission,
        )

    if given:
        return configuration(given)
    if not isinstance(mappings, tuple):
        return mappings
    found: list[FunctionView] = []
    refused: Unreadable | None = None
    for arn in dict.fromkeys(m.function_arn for m in mappings):
        view = configuration(arn)
        if isinstance(view, Unreadable):
            refused = view
        elif view is not None and is_replicator(view):
            found.append(view)
    found.sort(key=lambda f: f.environment.get("REPLICA_TABLE_NAME") != replica_table)
    return found[0] if found else refused


def _queue_of(mappings: Iterable[MappingView], function: FunctionView) -> str | None:
    """The on-failure destination of the replicator's own mapping."""
    return next((m.destination for m in mappings if m.function_name == function.name and m.destination), None)


def _queue_url(attempt: Attempt, sqs: Any, name: str, owner: str | None) -> str | Unreadable | None:
    extra = {"QueueOwnerAWSAccountId": owner} if owner else {}
    return attempt(
        lambda: str(sqs.get_queue_url(QueueName=name, **extra)["QueueUrl"]),
        what=f"the failure queue {name!r}",
        permission="sqs:GetQueueUrl",
    )


def read_queue(
    attempt: Attempt, sqs_in: Callable[[str], Any], given: str | None, facts: Facts
) -> tuple[QueueView | Unreadable | None, str, bool]:
    """The failure queue's depth; else why none was read, and whether the queue named is missing."""
    if given:
        region = queue_region(given, attempt.side.region)
        sqs = sqs_in(region)
        is_url = given.startswith(("https://", "http://"))
        url = given if is_url else _queue_url(attempt, sqs, given, None)
        missing = f"the queue {given!r} (--failure-queue) does not exist in {region}"
    else:
        if not isinstance(facts.function, FunctionView) or not isinstance(facts.mappings, tuple):
            return None, "", False
        destination = _queue_of(facts.mappings, facts.function)
        if destination is None:
            return None, "", False
        parts = destination.split(":")
        if len(parts) != 6 or parts[2] != "sqs":
            note = (
                f"the on-failure destination is {destination}, not an SQS queue; give --failure-queue "
                "with the queue that receives its messages"
            )
            return None, note, False
        sqs = sqs_in(parts[3])
        url = _queue_url(attempt, sqs, parts[5], parts[4])
        missing = f"the on-failure destination {destination} does not exist"
    if not isinstance(url, str):
        return url, missing, url is None
    name = url.rstrip("/").rsplit("/", 1)[-1]

    def depth() -> QueueView:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_QUEUE_COUNTS)["Attributes"]
        return QueueView.from_attributes(name, attributes)

    found = attempt(depth, what=f"the failure queue {name!r}", permission="sqs:GetQueueAttributes")
    return found, missing, found is None


def simulate(
    attempt: Attempt, iam_clients: dict[str, Any], roles: dict[str, str], needs: list[iam.Need]
) -> SimulationView | Unreadable:
    """Ask IAM's policy simulator about each need, with the role that needs it."""

    def run() -> SimulationView:
        decisions: list[Decision] = []
        for need in needs:
            pages = (
                iam_clients[need.role]
                .get_paginator("simulate_principal_policy")
                .paginate(
                    PolicySourceArn=roles[need.role],
                    ActionNames=list(need.actions),
                    ResourceArns=[need.resource],
                )
            )
            decisions.extend(
                Decision(
                    r["EvalActionName"], str(r.get("EvalResourceName") or need.resource), r["EvalDecision"]
                )
                for page in pages
                for r in page["EvaluationResults"]
            )
        return SimulationView(tuple(dict.fromkeys(roles[n.role] for n in needs)), tuple(decisions))

    found = attempt(run, what="the replicator role's permissions", permission="iam:SimulatePrincipalPolicy")
    if found is None:  # the role itself does not exist
        return Unreadable("the replicator role", "iam:SimulatePrincipalPolicy", "NoSuchEntity")
    return found
