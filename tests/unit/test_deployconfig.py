"""Deployment configuration: derived names, cross-account replica, and what is refused."""

from __future__ import annotations

import pytest

from deployconfig.config import CDK_JSON, ConfigError, find_cdk_json, load

STREAM = "arn:aws:dynamodb:us-east-1:111111111111:table/Users/stream/2026-01-01T00:00:00.000"


def test_names_are_derived_deterministically_from_the_table():
    config = load()
    assert (config.source_stack_name, config.replica_stack_name) == (
        "Users-replication-source",
        "Users-replication-replica",
    )
    assert config.replicator_role_name == "Users-replicator-us-east-1"
    assert (config.replication_dashboard_name, config.usage_dashboard_name) == (
        "Users-replication",
        "Users-usage",
    )
    assert config.replica_account is None  # same account as the source, whatever it is


def test_the_export_check_is_off_by_default_and_named_after_the_table():
    # GIVEN the repository's cdk.json
    config = load()
    # THEN the optional stack is off, with a week's retention and a 200-vCPU ceiling
    assert (config.export_check, config.export_retention_days, config.export_max_vcpu) == (False, 7, 200)
    # AND switched on, its stack and application carry the table's name
    config = load({"exportCheck": "true", "exportRetentionDays": "3", "exportMaxVcpu": 64})
    assert (config.export_check, config.export_retention_days, config.export_max_vcpu) == (True, 3, 64)
    assert config.export_check_stack_name == "Users-replication-export-check"
    assert config.export_application_name == "Users-export-check"


def test_a_replica_role_names_the_replica_account_role_and_path():
    config = load(
        {"account": "111111111111", "replicaRoleArn": "arn:aws:iam::222222222222:role/ops/team/Writer"}
    )
    assert config.replica_account == "222222222222"
    assert (config.replica_role_name, config.replica_role_path) == ("Writer", "/ops/team/")


def test_dashboard_names_drop_characters_cloudwatch_refuses():
    assert load({"tableName": "app.users"}).usage_dashboard_name == "app-users-usage"


def test_dashboard_context_fills_the_templates_from_the_configuration():
    ctx = load({"segmentValues": "ios,web", "trackedAttributes": "plan"}).dashboard_context()
    assert (ctx.replicator_function, ctx.failure_queue) == ("Users-replicator", "Users-replication-failures")
    assert (ctx.segments, ctx.tracked_attributes) == (("ios", "web"), ("plan",))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"tableName": "t" * 60}, "too long", id="name-too-long"),
        pytest.param(
            {"replicaRoleArn": "arn:aws:iam::222222222222:role/W"}, "needs 'account'", id="role-no-account"
        ),
        pytest.param(
            {"existingTableName": "Orders", "existingStreamArn": STREAM.replace("Users", "Orders")},
            "must equal 'tableName'",
            id="imported-name-differs",
        ),
        pytest.param(
            {"existingTableName": "Users", "existingStreamArn": STREAM.replace("table/Users", "table/Other")},
            "must be a stream of table",
            id="stream-of-another-table",
        ),
        pytest.param(
            {"existingReplicaTableName": "Orders"},
            "'existingReplicaTableName' 'Orders' must equal the table's configured name 'Users'",
            id="attached-replica-name-differs",
        ),
        pytest.param(
            {"replicaTableName": "UsersCopy", "existingStateTableName": "Users-replication-state"},
            "'existingStateTableName' .* must equal the table's configured name 'UsersCopy-replication-",
            id="attached-state-name-differs",
        ),
        pytest.param({"alarmEmail": "not-an-address"}, "e-mail", id="bad-email"),
        pytest.param({"exportCheck": "yes"}, "'exportCheck' must be true or false", id="bad-export-flag"),
        pytest.param(
            {"exportRetentionDays": 0}, "'exportRetentionDays' must be between 1 and", id="no-retention"
        ),
        pytest.param({"exportMaxVcpu": "many"}, "'exportMaxVcpu' must be an integer", id="bad-vcpu"),
        pytest.param({"exportMaxVcpu": 4}, "'exportMaxVcpu' must be between 8 and", id="too-few-vcpu"),
        pytest.param({"existingTableKeyArn": "alias/mine"}, "KMS key ARN", id="bad-key-arn"),
        pytest.param(
            {"ttlDeletes": "expire", "ttlAttribute": ""}, "'expire' needs 'ttlAttribute'", id="expire-no-ttl"
        ),
        pytest.param(
            {"ttlDeletes": "expire", "excludeAttributes": "expires_at"},
            "would never expire",
            id="expire-excluded-ttl",
        ),
    ],
)
def test_invalid_context_is_refused_with_the_key_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load(overrides)


@pytest.mark.parametrize(
    ("ttl_deletes", "replica_ttl"),
    [
        pytest.param("replicate", None, id="replicate"),
        pytest.param("skip", None, id="skip"),
        pytest.param("expire", "expires_at", id="expire"),
    ],
)
def test_only_ttl_deletes_expire_gives_the_replica_a_ttl_of_its_own(ttl_deletes, replica_ttl):
    config = load({"ttlDeletes": ttl_deletes, "ttlAttribute": "expires_at"})
    assert config.replica_ttl_attribute == replica_ttl


def test_without_a_cdk_json_the_built_in_defaults_are_the_repositorys_cdk_json(tmp_path, monkeypatch):
    # GIVEN the repository's cdk.json, and a directory without one (an installed wheel, elsewhere)
    from_repository = load(path=CDK_JSON)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("deployconfig.config.CDK_JSON", tmp_path / "absent.json")
    # THEN the configuration found there is the same
    assert find_cdk_json() is None
    assert load() == from_repository


def test_a_cdk_json_in_the_current_directory_is_the_one_read(tmp_path, monkeypatch):
    (tmp_path / "cdk.json").write_text('{"context": {"tableName": "Orders"}}')
    monkeypatch.chdir(tmp_path)
    assert load().table_name == "Orders"


def test_an_unreadable_cdk_json_names_the_file(tmp_path):
    broken = tmp_path / "cdk.json"
    broken.write_text("[1, 2")
    with pytest.raises(ConfigError, match=r"cannot read the context of .*cdk\.json"):
        load(path=broken)


def test_retained_replica_and_state_tables_are_attached_by_their_configured_names():
    # GIVEN the context of a redeploy after `make destroy` (both tables kept, with fixed names)
    config = load({"existingReplicaTableName": "Users", "existingStateTableName": "Users-replication-state"})
    # THEN the tables are attached, and the replicator still writes the same names
    assert (config.existing_replica_table_name, config.existing_state_table_name) == (
        "Users",
        "Users-replication-state",
    )
    environment = config.replicator_environment()
    assert (environment["REPLICA_TABLE_NAME"], environment["STATE_TABLE_NAME"]) == (
        "Users",
        "Users-replication-state",
    )
