"""The doctor's rules on typed views: each check's verdict and message, without AWS."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from replicator.cli.doctor import iam, lineage, readers, runtime, tables
from replicator.cli.doctor.checks import evaluate
from replicator.cli.doctor.facts import Expected, Facts, TableFacts
from replicator.cli.doctor.findings import Finding, Status, Unreadable, exit_code, passed, skipped
from replicator.cli.doctor.views import (
    ClockView,
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
from replicator.core.policy import TtlPolicy
from replicator.settings import Settings

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"
KEYS = (("user_id", "S"), ("timestamp", "N"))
QUEUE = "arn:aws:sqs:us-east-1:123456789012:Users-replication-failures"
ENVIRONMENT = {
    "REPLICA_TABLE_NAME": "Users",
    "REPLICA_REGION": "eu-west-1",
    "STATE_TABLE_NAME": "Users-replication-state",
    "TTL_DELETES": "replicate",
    "EXCLUDE_ATTRIBUTES": "",
    "TOMBSTONE_RETENTION_HOURS": "72",
}


def table(
    name: str, keys=KEYS, *, stream: str | None = "NEW_AND_OLD_IMAGES", global_table=False
) -> TableView:
    return TableView(
        name=name,
        arn=f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}",
        status="ACTIVE",
        keys=keys,
        stream_enabled=stream is not None,
        stream_view_type=stream,
        stream_arn=STREAM if stream else None,
        global_table=global_table,
    )


def mapping(function: str, state: str = "Enabled", **overrides: Any) -> MappingView:
    view = MappingView(
        uuid=f"uuid-{function}",
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
        state=state,
        destination=QUEUE,
        response_types=("ReportBatchItemFailures",),
        bisect=True,
    )
    return dataclasses.replace(view, **overrides)


REPLICATOR = FunctionView(
    name="Users-replicator",
    arn="arn:aws:lambda:us-east-1:123456789012:function:Users-replicator",
    role="arn:aws:iam::123456789012:role/Users-replicator-us-east-1",
    handler="replicator.handler.handler",
    environment=ENVIRONMENT,
)


def healthy() -> Facts:
    on = TtlView("ENABLED", "expires_at")
    return Facts(
        source=TableFacts("source", "Users", "us-east-1", table("Users"), on, PitrView("ENABLED")),
        replica=TableFacts(
            "replica",
            "Users",
            "eu-west-1",
            table("Users", stream=None),
            TtlView("DISABLED", None),
            PitrView("ENABLED"),
        ),
        state=TableFacts(
            "state",
            "Users-replication-state",
            "eu-west-1",
            table("Users-replication-state", (("pk", "S"),), stream=None),
            on,
            PitrView("ENABLED"),
        ),
        stream=StreamView(STREAM, "ENABLED", "NEW_AND_OLD_IMAGES", (ShardView("shard-1", None, 100, None),)),
        mappings=(mapping("Users-replicator"), mapping("Users-usage-metrics")),
        function=REPLICATOR,
        queue=QueueView("Users-replication-failures", 0, 0, 0),
        clock=ClockView(server=1000.0, local=1000.6, round_trip=0.2),
    )


def expected(policy: TtlPolicy = TtlPolicy.REPLICATE, **overrides: Any) -> Expected:
    settings = Settings(
        replica_table="Users",
        replica_region="eu-west-1",
        state_table="Users-replication-state",
        ttl_policy=policy,
    )
    return dataclasses.replace(Expected(settings, ttl_attribute=None, local_endpoint=False), **overrides)


def with_side(facts: Facts, role: str, **changes) -> Facts:
    return dataclasses.replace(facts, **{role: dataclasses.replace(getattr(facts, role), **changes)})


def by_check(facts: Facts, exp: Expected | None = None) -> dict[str, Finding]:
    return {f.check: f for f in evaluate(facts, exp or expected())}


def test_a_healthy_setup_passes_every_check_but_the_iam_simulation_it_was_not_asked_for():
    # GIVEN the facts of a setup as the CDK app deploys it
    # WHEN every check runs
    findings = evaluate(healthy(), expected())
    # THEN all pass, the IAM simulation is skipped (no --deep), and the exit code is 0
    assert {f.check: f.status for f in findings if f.status is not Status.PASS} == {"iam": Status.SKIP}
    assert exit_code(findings) == 0


@pytest.mark.parametrize(
    ("statuses", "strict", "code"),
    [
        pytest.param({Status.PASS, Status.SKIP}, False, 0, id="pass-and-skip"),
        pytest.param({Status.PASS, Status.WARN}, False, 0, id="warnings-allowed"),
        pytest.param({Status.PASS, Status.WARN}, True, 1, id="warnings-fail-when-strict"),
        pytest.param({Status.PASS, Status.SKIP}, True, 0, id="skips-never-fail"),
        pytest.param({Status.FAIL}, False, 1, id="a-failure"),
    ],
)
def test_the_exit_code_is_one_only_for_a_failure_or_a_strict_warning(statuses, strict, code):
    findings = [dataclasses.replace(passed("x", "r"), status=status) for status in statuses]
    assert exit_code(findings, strict=strict) == code


def test_an_unreadable_fact_is_a_warning_naming_the_permission():
    finding = Unreadable(
        "the source table's TTL setting", "dynamodb:DescribeTimeToLive", "AccessDenied"
    ).finding("ttl")
    assert finding.status is Status.WARN
    assert "could not read the source table's TTL setting (AccessDenied" in finding.reason
    assert "dynamodb:DescribeTimeToLive" in finding.fix


# -- the stream, the keys, the tables ----------------------------------------------------------------


def test_a_source_without_a_stream_fails_with_the_command_that_enables_one():
    facts = with_side(healthy(), "source", table=table("Users", stream=None))
    finding = tables.stream(facts)
    assert finding.status is Status.FAIL and "has no stream" in finding.reason
    assert "StreamViewType=NEW_AND_OLD_IMAGES" in finding.fix


def test_a_stream_without_both_images_fails():
    facts = with_side(healthy(), "source", table=table("Users", stream="KEYS_ONLY"))
    finding = tables.stream(facts)
    assert finding.status is Status.FAIL and "view type is KEYS_ONLY" in finding.reason


def test_a_missing_source_table_fails_naming_it():
    finding = tables.stream(with_side(healthy(), "source", table=None))
    assert finding.status is Status.FAIL
    assert finding.reason == "the source table 'Users' in us-east-1 does not exist"


def test_different_key_schemas_fail_naming_both():
    facts = with_side(healthy(), "replica", table=table("Users", (("user_id", "S"),), stream=None))
    finding = tables.key_schema(facts)
    assert finding.status is Status.FAIL
    assert "user_id (S), timestamp (N)" in finding.reason and "replica's are user_id (S):" in finding.reason


def test_a_missing_replica_table_fails_and_the_key_schema_check_is_skipped():
    found = by_check(with_side(healthy(), "replica", table=None, ttl=None, pitr=None))
    assert found["replica-table"].status is Status.FAIL
    assert found["key-schema"].status is Status.SKIP


@pytest.mark.parametrize(
    ("ttl", "words"),
    [
        pytest.param(TtlView("DISABLED", None), "TTL off", id="ttl-off"),
        pytest.param(TtlView("ENABLED", "ttl"), "TTL on 'ttl'", id="other-attribute"),
    ],
)
def test_a_state_table_that_never_expires_its_tombstones_fails(ttl, words):
    finding = tables.state_table(with_side(healthy(), "state", ttl=ttl))
    assert finding.status is Status.FAIL
    assert words in finding.reason and "grows forever" in finding.reason
    assert "AttributeName=expires_at" in finding.fix


def test_a_missing_state_table_fails_saying_what_it_holds():
    finding = tables.state_table(with_side(healthy(), "state", table=None))
    assert finding.status is Status.FAIL and "tombstones and high-water mark" in finding.reason


# -- TTL policy ------------------------------------------------------------------------------------


OFF, ON = TtlView("DISABLED", None), TtlView("ENABLED", "expires_at")


@pytest.mark.parametrize(
    ("policy", "source", "replica", "status", "words"),
    [
        pytest.param(
            TtlPolicy.REPLICATE, ON, OFF, Status.PASS, "expiries replicate as deletes", id="replicate"
        ),
        pytest.param(TtlPolicy.SKIP, ON, OFF, Status.PASS, "the replica keeps expired items", id="skip"),
        pytest.param(TtlPolicy.EXPIRE, ON, ON, Status.PASS, "both expire items on 'expires_at'", id="expire"),
        pytest.param(TtlPolicy.REPLICATE, OFF, OFF, Status.PASS, "never applies", id="no-ttl"),
        pytest.param(
            TtlPolicy.EXPIRE, ON, OFF, Status.FAIL, "stay in the replica forever", id="expire-no-replica-ttl"
        ),
        pytest.param(
            TtlPolicy.EXPIRE, OFF, OFF, Status.FAIL, "the source has TTL off", id="expire-no-source-ttl"
        ),
        pytest.param(TtlPolicy.SKIP, ON, ON, Status.FAIL, "archive", id="skip-but-replica-expires"),
        pytest.param(TtlPolicy.REPLICATE, ON, ON, Status.WARN, "as well", id="replicate-and-replica-expires"),
        pytest.param(
            TtlPolicy.EXPIRE,
            OFF,
            ON,
            Status.FAIL,
            "deletes items the source keeps",
            id="replica-expires-alone",
        ),
    ],
)
def test_the_ttl_settings_must_tell_the_story_of_the_policy(policy, source, replica, status, words):
    facts = with_side(with_side(healthy(), "source", ttl=source), "replica", ttl=replica)
    finding = tables.ttl_policy(facts, expected(policy))
    assert finding.status is status, finding
    assert words in finding.reason


def test_the_source_ttl_attribute_must_be_the_deployed_one_when_named():
    finding = tables.ttl_policy(healthy(), expected(ttl_attribute="valid_until"))
    assert finding.status is Status.FAIL
    assert "TTL on 'expires_at'" in finding.reason and "'valid_until'" in finding.reason


def test_expire_fails_when_the_ttl_attribute_is_excluded():
    settings = Settings(
        "Users",
        "eu-west-1",
        "Users-replication-state",
        ttl_policy=TtlPolicy.EXPIRE,
        exclude_attributes=frozenset({"expires_at"}),
    )
    facts = with_side(healthy(), "replica", ttl=ON)
    finding = tables.ttl_policy(facts, expected(settings=settings))
    assert finding.status is Status.FAIL and "excluded" in finding.reason


# -- PITR ------------------------------------------------------------------------------------------


def test_pitr_off_on_the_replica_fails_and_names_it():
    finding = tables.pitr(with_side(healthy(), "replica", pitr=PitrView("DISABLED")))
    assert finding.status is Status.FAIL
    assert "point-in-time recovery is off on the replica table 'Users' in eu-west-1" in finding.reason
    assert "PointInTimeRecoveryEnabled=true" in finding.fix


def test_pitr_off_on_the_state_table_alone_is_a_warning():
    finding = tables.pitr(with_side(healthy(), "state", pitr=PitrView("DISABLED")))
    assert finding.status is Status.WARN


# -- readers ---------------------------------------------------------------------------------------


def test_three_readers_fail_listing_each_function():
    mappings = (mapping("Users-replicator"), mapping("Users-usage-metrics"), mapping("Audit"))
    finding = readers.finding(mappings, global_table=False, local_endpoint=False)
    assert finding.status is Status.FAIL
    assert "3 event source mappings read the stream" in finding.reason
    assert "Users-replicator (Enabled), Users-usage-metrics (Enabled), Audit (Enabled)" in finding.reason
    assert "uuid-Audit" in finding.fix


def test_disabled_mappings_are_listed_but_do_not_read():
    mappings = (mapping("Users-replicator"), mapping("Users-usage-metrics"), mapping("Audit", "Disabled"))
    assert readers.finding(mappings, global_table=False, local_endpoint=False).status is Status.PASS


def test_a_global_table_serves_one_reader():
    mappings = (mapping("Users-replicator"), mapping("Users-usage-metrics"))
    finding = readers.finding(mappings, global_table=True, local_endpoint=False)
    assert finding.status is Status.FAIL and "at most 1 reader" in finding.reason


def test_no_mapping_fails_on_aws_and_is_skipped_on_a_local_endpoint():
    assert readers.finding((), global_table=False, local_endpoint=False).status is Status.FAIL
    local = readers.finding((), global_table=False, local_endpoint=True)
    assert local.status is Status.SKIP and "emulates" in local.reason


def test_the_guard_refuses_a_third_reader_and_says_how_to_go_on():
    budget = readers.ReaderBudget(STREAM, (mapping("Users-replicator"), mapping("Users-usage-metrics")))
    refusal = budget.refusal(1, "redrive")
    assert refusal is not None
    assert "2 event source mapping(s) already read it" in refusal and "at most 2 reader(s)" in refusal
    assert "--allow-third-reader" in refusal and "--uuid uuid-Users-replicator --no-enabled" in refusal
    # AND one mapping leaves room for one more reader, not two
    one = readers.ReaderBudget(STREAM, (mapping("Users-replicator"),))
    assert one.refusal(1, "redrive") is None
    assert one.refusal(2, "localrun run") is not None


# -- the replicator's mapping, queue, environment, clock -------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        pytest.param({"state": "Disabled"}, "is Disabled", id="disabled"),
        pytest.param({"response_types": ()}, "lacks ReportBatchItemFailures", id="no-partial-batch-response"),
        pytest.param({"destination": None}, "no on-failure destination", id="no-destination"),
    ],
)
def test_the_replicators_mapping_must_be_enabled_report_failures_and_have_a_destination(changes, words):
    facts = dataclasses.replace(
        healthy(), mappings=(mapping("Users-replicator", **changes), mapping("Users-usage-metrics"))
    )
    finding = runtime.replicator_mapping(facts, expected())
    assert finding.status is Status.FAIL and words in finding.reason


def test_a_failure_queue_holding_messages_fails_with_its_depth():
    facts = dataclasses.replace(healthy(), queue=QueueView("Users-replication-failures", 2, 1, 0))
    finding = runtime.failure_queue(facts)
    assert finding.status is Status.FAIL
    assert "holds 3 message(s) (2 visible, 1 in flight, 0 delayed)" in finding.reason
    assert "redrive" in finding.fix


def test_a_failure_destination_that_is_not_a_queue_is_skipped_with_the_reason():
    facts = dataclasses.replace(
        healthy(), queue=None, queue_note="the on-failure destination is arn:aws:sns:x"
    )
    assert runtime.failure_queue(facts) == skipped(
        "failure-queue", "the on-failure destination is arn:aws:sns:x"
    )


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        pytest.param(
            "REPLICA_TABLE_NAME",
            "Orders",
            "REPLICA_TABLE_NAME is 'Orders' but --replica says 'Users'",
            id="table",
        ),
        pytest.param(
            "TTL_DELETES", "skip", "TTL_DELETES is 'skip' but --ttl-deletes says 'replicate'", id="policy"
        ),
        pytest.param("STATE_TABLE_NAME", "State", "STATE_TABLE_NAME is 'State'", id="state"),
        pytest.param("TTL_DELETES", "sometimes", "TTL_DELETES must be", id="invalid"),
    ],
)
def test_an_environment_that_does_not_match_the_tables_fails_naming_the_variable(variable, value, words):
    function = dataclasses.replace(REPLICATOR, environment={**ENVIRONMENT, variable: value})
    finding = runtime.function_environment(dataclasses.replace(healthy(), function=function), expected())
    assert finding.status is Status.FAIL and words in finding.reason


def test_an_endpoint_override_in_a_deployed_replicator_fails():
    function = dataclasses.replace(
        REPLICATOR, environment={**ENVIRONMENT, "REPLICA_ENDPOINT_URL": "http://x:1"}
    )
    finding = runtime.function_environment(dataclasses.replace(healthy(), function=function), expected())
    assert finding.status is Status.FAIL and "REPLICA_ENDPOINT_URL is set" in finding.reason


def test_without_a_function_the_environment_fails_on_aws_and_is_skipped_locally():
    facts = dataclasses.replace(healthy(), function=None, mappings=())
    assert runtime.function_environment(facts, expected()).status is Status.FAIL
    assert runtime.function_environment(facts, expected(local_endpoint=True)).status is Status.SKIP
    given = dataclasses.replace(facts, function_given="Nope")
    assert "'Nope' (--function) does not exist" in runtime.function_environment(given, expected()).reason


@pytest.mark.parametrize(
    ("local", "status"),
    [
        pytest.param(1000.6, Status.PASS, id="in-step"),
        pytest.param(1010.0, Status.WARN, id="ten-seconds-ahead"),
        pytest.param(1600.0, Status.FAIL, id="ten-minutes-ahead"),
        pytest.param(400.0, Status.FAIL, id="ten-minutes-behind"),
    ],
)
def test_clock_skew_against_the_date_header(local, status):
    finding = runtime.clock_skew(ClockView(server=1000.0, local=local, round_trip=0.0), "DynamoDB")
    assert finding.status is status
    if status is Status.FAIL:
        assert ("ahead of" if local > 1000 else "behind") in finding.reason and "NTP" in finding.fix


# -- shard lineage ---------------------------------------------------------------------------------


def stream_of(*shards: ShardView) -> StreamView:
    return StreamView(STREAM, "ENABLED", "NEW_AND_OLD_IMAGES", shards)


def test_a_child_that_starts_at_or_below_its_parents_end_fails_naming_both_shards():
    parent = ShardView("shard-parent", None, 100, 500)
    bad = ShardView("shard-bad", "shard-parent", 500, None)
    good = ShardView("shard-good", "shard-parent", 501, None)
    finding = lineage.finding(stream_of(parent, bad, good))
    assert finding.status is Status.FAIL
    assert finding.reason == "shard shard-bad starts at 500, not above the end 500 of its parent shard-parent"


def test_children_above_their_parents_pass_and_open_or_trimmed_parents_are_not_compared():
    shards = (
        ShardView("a", None, 100, 500),
        ShardView("b", "a", 600, None),
        ShardView("c", "trimmed", 50, None),
        ShardView("d", "e", 10, None),
        ShardView("e", None, 5, None),
    )
    finding = lineage.finding(stream_of(*shards))
    assert finding.status is Status.PASS
    assert "1 split(s) among 5 shards" in finding.reason and "1 parent(s) still open" in finding.reason


# -- IAM (--deep) ----------------------------------------------------------------------------------


def test_the_simulation_covers_the_stream_the_tables_and_the_queue():
    needs = {(n.role, n.resource): n.actions for n in iam.needs(healthy())}
    assert needs[("function", STREAM)] == (
        "dynamodb:DescribeStream",
        "dynamodb:GetShardIterator",
        "dynamodb:GetRecords",
    )
    assert needs[("function", "*")] == ("dynamodb:ListStreams",)
    assert needs[("function", "arn:aws:dynamodb:us-east-1:123456789012:table/Users")] == (
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    )
    assert needs[("function", QUEUE)] == ("sqs:SendMessage",)


def test_with_a_replica_role_the_tables_are_simulated_for_that_role():
    role = "arn:aws:iam::210987654321:role/Users-writer"
    function = dataclasses.replace(REPLICATOR, environment={**ENVIRONMENT, "REPLICA_ROLE_ARN": role})
    needs = iam.needs(dataclasses.replace(healthy(), function=function))
    assert ("function", ("sts:AssumeRole",), role) in {(n.role, n.actions, n.resource) for n in needs}
    assert {n.role for n in needs if n.actions[0] == "dynamodb:PutItem"} == {"replica"}


def test_a_denied_action_fails_naming_it():
    simulation = SimulationView(
        ("arn:aws:iam::123456789012:role/r",),
        (
            Decision("dynamodb:PutItem", "arn:t", "allowed"),
            Decision("dynamodb:DeleteItem", "arn:t", "implicitDeny"),
        ),
    )
    finding = iam.finding(dataclasses.replace(healthy(), simulation=simulation), deep=True)
    assert finding.status is Status.FAIL
    assert finding.reason == "denied: dynamodb:DeleteItem on arn:t (implicitDeny)"
