"""AWS name rules (``ddbstream.names``), each written once and used by the replicator's settings, the
operator CLI and the deployment configuration."""

from __future__ import annotations

import argparse

import pytest

from ddbstream.names import (
    RoleArn,
    is_account,
    is_kms_key_arn,
    is_region,
    is_role_arn,
    is_stream_arn,
    is_table_name,
    partition_of,
    table_name_from_arn,
)
from deployconfig.config import ConfigError, from_context
from replicator.cli.options import TableRef, table_ref
from replicator.core.errors import ConfigurationError
from replicator.core.schema import MIN_TOMBSTONE_RETENTION_HOURS
from replicator.settings import from_environ

REGIONS = {
    # every kind of region in botocore's partitions.json, with its partition
    "us-east-1": "aws",
    "ap-southeast-7": "aws",
    "mx-central-1": "aws",
    "cn-northwest-1": "aws-cn",
    "us-gov-west-1": "aws-us-gov",
    "us-iso-east-1": "aws-iso",
    "us-isob-east-1": "aws-iso-b",
    "eu-isoe-west-1": "aws-iso-e",
    "us-isof-south-1": "aws-iso-f",
    "eusc-de-east-1": "aws-eusc",
}


@pytest.mark.parametrize(("region", "partition"), REGIONS.items())
def test_every_kind_of_region_is_a_region_of_its_partition(region, partition):
    assert is_region(region)
    assert partition_of(region) == partition


@pytest.mark.parametrize(
    "text", ["europe", "EU-WEST-1", "eu-west", "eu_west_1", "eu-west-1 ", "eu-west-100", ""]
)
def test_what_is_not_a_region(text):
    assert not is_region(text)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        pytest.param("Users", True, id="plain"),
        pytest.param("a.b-c_9", True, id="every-allowed-character"),
        pytest.param("ab", False, id="too-short"),
        pytest.param("x" * 255, True, id="longest"),
        pytest.param("x" * 256, False, id="too-long"),
        pytest.param("Users/x", False, id="slash"),
        pytest.param("Usérs", False, id="non-ascii"),
    ],
)
def test_table_names_follow_dynamodbs_naming_rules(text, valid):
    assert is_table_name(text) is valid


def test_an_account_id_is_twelve_digits():
    assert is_account("123456789012")
    assert (
        not is_account("12345678901") and not is_account("1234567890123") and not is_account("12345678901a")
    )


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param(
            "arn:aws:iam::123456789012:role/W", RoleArn("aws", "123456789012", "/", "W"), id="plain"
        ),
        pytest.param(
            "arn:aws:iam::123456789012:role/ops/team/Writer+=,.@_-",
            RoleArn("aws", "123456789012", "/ops/team/", "Writer+=,.@_-"),
            id="path-and-every-name-character",
        ),
        pytest.param(
            "arn:aws-us-gov:iam::123456789012:role/W",
            RoleArn("aws-us-gov", "123456789012", "/", "W"),
            id="gov",
        ),
        pytest.param(
            "arn:aws-cn:iam::123456789012:role/W", RoleArn("aws-cn", "123456789012", "/", "W"), id="china"
        ),
        pytest.param(
            f"arn:aws:iam::123456789012:role/{'p' * 510}/{'n' * 64}",
            RoleArn("aws", "123456789012", f"/{'p' * 510}/", "n" * 64),
            id="longest-path-and-name",
        ),
    ],
)
def test_a_role_arn_is_parsed_into_its_parts(text, parts):
    assert RoleArn.parse(text) == parts
    assert is_role_arn(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"arn:aws:iam::123456789012:role/{'n' * 65}", id="name-over-64"),
        pytest.param(f"arn:aws:iam::123456789012:role/{'p' * 511}/n", id="path-over-512"),
        pytest.param("arn:aws:iam::123456789012:role/ops/", id="no-name"),
        pytest.param("arn:aws:iam::123456789012:role//W", id="empty-path-segment"),
        pytest.param("arn:aws:iam::123456789012:user/W", id="a-user"),
        pytest.param("arn:aws:iam::12345678901:role/W", id="short-account"),
        pytest.param("arn:awsx:iam::123456789012:role/W", id="no-such-partition"),
        pytest.param("arn:aws:iam::123456789012:role/Wé", id="non-ascii"),
    ],
)
def test_what_is_not_a_role_arn(text):
    assert RoleArn.parse(text) is None
    assert not is_role_arn(text)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        pytest.param(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000", True
        ),
        pytest.param(
            "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/a.b-c/stream/2026-01-01T00:00:00.000",
            True,
            id="china",
        ),
        pytest.param(
            "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/T_1/stream/2026-01-01T00:00:00.000",
            True,
            id="gov",
        ),
        pytest.param(
            "arn:aws:dynamodb:cn-north-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000",
            False,
            id="partition-not-the-regions",
        ),
        pytest.param("arn:aws:dynamodb:us-east-1:123456789012:table/Users", False, id="a-table"),
        pytest.param("arn:aws:dynamodb:us-east-1:123456789012:table/ab/stream/x", False, id="bad-table-name"),
        pytest.param("arn:aws:kinesis:us-east-1:123456789012:stream/x", False, id="kinesis"),
    ],
)
def test_stream_arns(text, valid):
    assert is_stream_arn(text) is valid


def test_kms_key_arns():
    assert is_kms_key_arn("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert is_kms_key_arn(
        "arn:aws-us-gov:kms:us-gov-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    )
    assert not is_kms_key_arn("alias/mine")
    assert not is_kms_key_arn("arn:aws:kms:us-east-1:123456789012:alias/mine")


def test_the_table_name_is_read_from_table_and_stream_arns():
    assert table_name_from_arn("arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026") == "Users"
    assert table_name_from_arn("arn:aws:dynamodb:us-east-1:123456789012:table/Users") == "Users"
    assert table_name_from_arn("arn:aws:sqs:us-east-1:123456789012:q") is None
    assert table_name_from_arn(None) is None


# ---------------------------------------------------------------------------------------------
# The three readers use the same rules, and their errors name what the user set.

GOV_ROLE = "arn:aws-us-gov:iam::123456789012:role/ops/Writer"
LONG_NAME_ROLE = f"arn:aws:iam::123456789012:role/{'n' * 65}"


def test_the_replicator_settings_take_any_partitions_region_and_role():
    settings = from_environ(
        {"REPLICA_TABLE_NAME": "Users", "REPLICA_REGION": "us-gov-west-1", "REPLICA_ROLE_ARN": GOV_ROLE}
    )
    assert (settings.replica_region, settings.role_arn) == ("us-gov-west-1", GOV_ROLE)


def test_the_replicator_settings_refuse_a_role_name_iam_would_refuse():
    env = {"REPLICA_TABLE_NAME": "Users", "REPLICA_REGION": "eu-west-1", "REPLICA_ROLE_ARN": LONG_NAME_ROLE}
    with pytest.raises(ConfigurationError, match="REPLICA_ROLE_ARN must be an IAM role ARN"):
        from_environ(env)


def test_the_deployment_refuses_the_same_role_names_as_the_replicator():
    # Before, the deployment accepted any length: the replicator would then refuse its own environment.
    with pytest.raises(ConfigError, match="context 'replicaRoleArn' must be an IAM role ARN"):
        from_context({"account": "111111111111", "replicaRoleArn": LONG_NAME_ROLE}.get)


@pytest.mark.parametrize(
    "key",
    [
        "tableName",
        "replicaTableName",
        "stateTableName",
        "existingTableName",
        "existingReplicaTableName",
        "existingStateTableName",
    ],
)
def test_the_deployment_checks_table_names_naming_the_context_key(key):
    with pytest.raises(ConfigError, match=f"context '{key}' must be a DynamoDB table name"):
        from_context({key: "no/such table"}.get)


def test_the_deployment_reads_a_gov_cloud_configuration():
    config = from_context(
        {"sourceRegion": "us-gov-west-1", "replicaRegion": "us-gov-east-1", "account": "111111111111"}.get
    )
    assert (config.source_region, config.replica_region) == ("us-gov-west-1", "us-gov-east-1")


def test_the_deployment_uses_the_replicators_tombstone_minimum():
    below = MIN_TOMBSTONE_RETENTION_HOURS - 1
    with pytest.raises(
        ConfigError, match=f"'tombstoneRetentionHours' must be between {MIN_TOMBSTONE_RETENTION_HOURS}"
    ):
        from_context({"tombstoneRetentionHours": below}.get)
    assert (
        from_context({"tombstoneRetentionHours": MIN_TOMBSTONE_RETENTION_HOURS}.get).tombstone_retention_hours
        == 25
    )


def test_the_cli_takes_region_and_table_by_the_same_rules():
    assert table_ref("eusc-de-east-1/a.b-c") == TableRef("eusc-de-east-1", "a.b-c")
    with pytest.raises(argparse.ArgumentTypeError, match="must look like REGION/TABLE"):
        table_ref("eu-west-1/ab")
