"""`doctor` against moto: a setup as the CDK app deploys it passes, and each seeded problem fails
with the message that names it. Shard lineage and the IAM simulation, which moto cannot produce,
are proven on typed inputs (tests/unit/test_doctor_rules.py) and with botocore's Stubber
(test_cli_doctor_stubbed.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import boto3
import pytest

from faultlab.wire import error_response
from tests.support.cli import run_cli
from tests.support.deployed import Deployed, deploy


@pytest.fixture
def deployed(regions) -> Deployed:
    return deploy(regions)


def doctor(tmp_path, *args: str, **hooks: Any):
    run = run_cli("doctor", "--json", str(tmp_path / "doctor.json"), *args, **hooks)
    assert "Traceback" not in run.output
    return run


def printed(run) -> str:
    """Standard output with each wrapped reason joined back onto one line."""
    return run.stdout.replace("\n" + " " * 32, " ")


def statuses(run) -> dict[str, str]:
    return {f["check"]: f["status"] for f in run.document["findings"]}


def finding(run, check: str) -> dict[str, str]:
    return next(f for f in run.document["findings"] if f["check"] == check)


def test_a_setup_as_deployed_passes_every_check(deployed, tmp_path):
    # GIVEN the tables, both functions, their mappings and the failure queue, as the CDK app deploys them
    # WHEN the doctor runs
    run = doctor(tmp_path)
    # THEN every check passes but the IAM simulation, which was not asked for, and it exits 0
    assert run.code == 0, run.output
    assert {check for check, status in statuses(run).items() if status != "pass"} == {"iam"}
    assert "2 of at most 2 readers: Users-replicator (Enabled), Users-usage-metrics (Enabled)" in printed(run)
    assert run.stdout.splitlines()[-1] == "Result: 12 pass, 1 skip: no failure found"


def _stream_off(d: Deployed) -> None:
    d.regions.source.update_table(TableName="Users", StreamSpecification={"StreamEnabled": False})


def _keys_only(d: Deployed) -> None:
    # moto refuses to enable a stream again on a table that had one: create the table anew
    d.regions.source.delete_table(TableName="Users")
    d.regions.source.create_table(
        TableName="Users",
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "timestamp", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "timestamp", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )


def _replica_keys(d: Deployed) -> None:
    d.regions.replica.delete_table(TableName="Users")
    d.regions.replica.create_table(
        TableName="Users",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    d.regions.replica.update_continuous_backups(
        TableName="Users", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def _state_ttl_off(d: Deployed) -> None:
    d.regions.replica.update_time_to_live(
        TableName="Users-replication-state",
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"},
    )


def _replica_pitr_off(d: Deployed) -> None:
    d.regions.replica.update_continuous_backups(
        TableName="Users", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )


def _third_mapping(d: Deployed) -> None:
    d.reader("Users-audit")


def _queue_holds_a_batch(d: Deployed) -> None:
    d.sqs.send_message(QueueUrl=d.queue_url, MessageBody='{"DDBStreamBatchInfo": {}}')


def _environment_mismatch(d: Deployed) -> None:
    environment = {**d.regions.config.replicator_environment(), "TTL_DELETES": "skip"}
    d.lambda_.update_function_configuration(
        FunctionName="Users-replicator", Environment={"Variables": environment}
    )


def _no_partial_batch_response(d: Deployed) -> None:
    d.lambda_.update_event_source_mapping(UUID=d.mappings["Users-replicator"], FunctionResponseTypes=[])


def _replica_expires_items_skip_keeps(d: Deployed) -> None:
    d.regions.replica.update_time_to_live(
        TableName="Users", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


@pytest.mark.parametrize(
    ("seed", "check", "words"),
    [
        pytest.param(_stream_off, "stream", "has no stream: nothing can be replicated", id="stream-off"),
        pytest.param(_keys_only, "stream", "the stream's view type is KEYS_ONLY", id="wrong-view-type"),
        pytest.param(
            _replica_keys,
            "key-schema",
            "the source's keys are user_id (S), timestamp (N) but the replica's are user_id (S)",
            id="key-schema-mismatch",
        ),
        pytest.param(_state_ttl_off, "state-table", "has TTL off", id="no-state-ttl"),
        pytest.param(
            _replica_pitr_off,
            "pitr",
            "point-in-time recovery is off on the replica table 'Users' in eu-west-1",
            id="pitr-off",
        ),
        pytest.param(
            _third_mapping,
            "stream-readers",
            "3 event source mappings read the stream: Users-replicator (Enabled), Users-usage-metrics "
            "(Enabled), Users-audit (Enabled)",
            id="three-mappings",
        ),
        pytest.param(
            _queue_holds_a_batch,
            "failure-queue",
            "Users-replication-failures holds 1 message(s)",
            id="queue-not-empty",
        ),
        pytest.param(
            _environment_mismatch,
            "function-environment",
            "TTL_DELETES is 'skip' but --ttl-deletes says 'replicate'",
            id="environment-mismatch",
        ),
        pytest.param(
            _no_partial_batch_response,
            "replicator-mapping",
            "lacks ReportBatchItemFailures",
            id="no-partial-batch-response",
        ),
        pytest.param(
            _replica_expires_items_skip_keeps,
            "ttl-policy",
            "the replica has TTL on 'expires_at' as well",
            id="replica-ttl-with-replicate",
        ),
    ],
)
def test_each_seeded_problem_is_named_by_its_check(
    deployed, tmp_path, seed: Callable[[Deployed], None], check, words
):
    # GIVEN a deployed setup with one problem seeded
    seed(deployed)
    # WHEN the doctor runs
    run = doctor(tmp_path)
    # THEN that check reports it with its reason and a fix, in the output and the JSON report
    found = finding(run, check)
    assert found["status"] in ("fail", "warn"), run.output
    assert words in found["reason"], found
    assert found["fix"]
    assert words.split(":")[0] in printed(run)
    # AND a failure exits 1 (the TTL overlap is a warning: replication stays correct)
    assert run.code == (1 if found["status"] == "fail" else 0)


def test_a_clock_ten_minutes_ahead_fails_the_skew_check(deployed, tmp_path):
    # GIVEN this machine's clock ten minutes ahead of the service's Date header
    run = doctor(tmp_path, clock=lambda: time.time() + 600)
    # THEN the clock check fails and says by how much and how to fix it
    found = finding(run, "clock-skew")
    assert found["status"] == "fail"
    ahead = re.fullmatch(
        r"this machine's clock is ([\d.]+) s ahead of DynamoDB's \(its Date header\)", found["reason"]
    )
    assert ahead is not None and 590 < float(ahead.group(1)) < 610, found
    assert "NTP" in found["fix"]
    assert run.code == 1


def _deny(operation: str) -> Callable[[Any], None]:
    def instrument(client: Any) -> None:
        if client.meta.service_model.service_name == "dynamodb":
            client.meta.events.register(
                f"before-send.dynamodb.{operation}", lambda **_: error_response(400, "AccessDeniedException")
            )

    return instrument


def test_a_fact_it_may_not_read_is_a_warning_naming_the_permission(deployed, tmp_path):
    # GIVEN credentials refused DescribeContinuousBackups
    run = doctor(tmp_path, instrument=_deny("DescribeContinuousBackups"))
    # THEN the PITR check warns, naming what it could not read and the permission, not a traceback
    found = finding(run, "pitr")
    assert found["status"] == "warn"
    assert "could not read the source table 'Users''s backups (AccessDeniedException" in found["reason"]
    assert "dynamodb:DescribeContinuousBackups" in found["reason"]
    # AND warnings alone exit 0, but 1 with --strict
    assert run.code == 0
    assert doctor(tmp_path, "--strict", instrument=_deny("DescribeContinuousBackups")).code == 1


def test_deep_says_honestly_when_the_endpoint_cannot_simulate_iam(deployed, tmp_path):
    # GIVEN moto, which does not implement iam:SimulatePrincipalPolicy
    run = doctor(tmp_path, "--deep")
    # THEN the IAM check is a warning that says so, and the rest still passes
    found = finding(run, "iam")
    assert found["status"] == "warn"
    assert "not implemented by this endpoint" in found["reason"]
    assert run.code == 0


def test_without_a_replicator_function_on_aws_it_fails_and_says_how_to_deploy(regions, tmp_path):
    # GIVEN the tables but no Lambda side at all
    run = doctor(tmp_path)
    # THEN no mapping reads the stream and no replicator function is found: both fail
    assert finding(run, "stream-readers")["status"] == "fail"
    assert (
        "no event source mapping on the stream invokes a function"
        in finding(run, "function-environment")["reason"]
    )
    assert run.code == 1


def test_a_missing_source_table_is_a_failure_not_a_crash(regions, tmp_path):
    run = doctor(tmp_path, tables=["--source", "us-east-1/Userz", "--replica", "eu-west-1/Users"])
    assert finding(run, "stream")["reason"] == "the source table 'Userz' in us-east-1 does not exist"
    assert run.code == 1


def test_function_and_failure_queue_can_be_named(deployed, tmp_path):
    # GIVEN the replicator's function and queue named on the command line
    run = doctor(tmp_path, "--function", "Users-replicator", "--failure-queue", "Users-replication-failures")
    # THEN the same checks pass
    assert run.code == 0, run.output
    # AND a queue that does not exist is a failure naming it
    missing = doctor(tmp_path, "--failure-queue", "Nope")
    assert (
        finding(missing, "failure-queue")["reason"]
        == "the queue 'Nope' (--failure-queue) does not exist in us-east-1"
    )


def test_an_endpoint_that_does_not_answer_exits_2_with_one_line(regions):
    run = run_cli("doctor", "--endpoint-url", "http://127.0.0.1:9")
    assert run.code == 2
    assert run.stderr.startswith("error: reading the source table 'Users': cannot reach http://127.0.0.1:9")
    assert "Traceback" not in run.output


def test_the_doctor_never_writes(deployed, tmp_path):
    # GIVEN a record of every request the doctor's clients send
    operations: list[str] = []

    def instrument(client: Any) -> None:
        client.meta.events.register("before-call", lambda model, **_: operations.append(model.name))

    # WHEN it runs, deep
    doctor(tmp_path, "--deep", instrument=instrument)
    # THEN it only described, listed, got and simulated
    assert operations and all(op.startswith(("Describe", "List", "Get", "Simulate")) for op in operations), (
        operations
    )
    assert boto3.client("sqs", region_name="us-east-1").list_queues()["QueueUrls"]


def test_a_clock_so_far_off_that_aws_refuses_the_signature_ends_the_run_saying_so(regions):
    # GIVEN a clock fifteen minutes ahead, so that DynamoDB refuses the signature (with its Date header)
    def instrument(client: Any) -> None:
        def refuse(**_: Any) -> Any:
            response = error_response(400, "InvalidSignatureException", "Signature expired")
            response.headers["Date"] = formatdate(time.time(), usegmt=True)
            return response

        if client.meta.service_model.service_name == "dynamodb":
            client.meta.events.register("before-send.dynamodb.DescribeTable", refuse)

    # WHEN the doctor runs
    run = run_cli("doctor", clock=lambda: time.time() + 900, instrument=instrument)
    # THEN nothing could be checked: exit 2, one line naming the refusal and the clock as its likely cause
    assert run.code == 2
    assert run.stderr.startswith(
        "error: reading the source table 'Users': AWS in us-east-1 answered InvalidSignatureException"
    )
    assert "this machine's clock is +900 s off the service's" in run.stderr and "NTP" in run.stderr
    assert "Traceback" not in run.output
