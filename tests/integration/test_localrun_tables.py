"""The local runtime creates the replica-region tables with the TTL the CDK app gives them."""

from __future__ import annotations

import boto3
import pytest

from deployconfig.config import load
from localrun.aws.tables import create_replica_tables, create_source_table
from replicator.core import schema


@pytest.mark.parametrize(
    ("ttl_deletes", "replica_ttl"),
    [
        pytest.param("replicate", None, id="replicate"),
        pytest.param("skip", None, id="skip"),
        pytest.param("expire", "expires_at", id="expire"),
    ],
)
def test_the_replica_expires_items_itself_only_with_ttl_deletes_expire(aws, ttl_deletes, replica_ttl):
    # GIVEN a deployment configuration with this TTL policy
    config = load({"ttlDeletes": ttl_deletes})
    client = boto3.client("dynamodb", region_name=config.replica_region)
    # WHEN the local runtime creates the replica-region tables
    create_replica_tables(client, config)
    # THEN the replica has TTL on the source's TTL attribute with expire only
    replica = client.describe_time_to_live(TableName=config.replica_table_name)["TimeToLiveDescription"]
    if replica_ttl is None:
        assert replica["TimeToLiveStatus"] == "DISABLED"
    else:
        assert replica == {"TimeToLiveStatus": "ENABLED", "AttributeName": replica_ttl}
    # AND the state table expires its tombstones whatever the policy
    state = client.describe_time_to_live(TableName=config.state_table_name)["TimeToLiveDescription"]
    assert state == {"TimeToLiveStatus": "ENABLED", "AttributeName": schema.STATE_TTL_ATTRIBUTE}


def test_every_table_the_local_runtime_creates_has_point_in_time_recovery_as_deployed(aws):
    # GIVEN the deployment configuration (the CDK app enables PITR on all three tables)
    config = load()
    source = boto3.client("dynamodb", region_name=config.source_region)
    replica = boto3.client("dynamodb", region_name=config.replica_region)
    # WHEN the local runtime creates the source, replica and state tables
    create_source_table(source, config)
    create_replica_tables(replica, config)
    # THEN each has point-in-time recovery on
    for client, table in (
        (source, config.table_name),
        (replica, config.replica_table_name),
        (replica, config.state_table_name),
    ):
        backups = client.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", table
