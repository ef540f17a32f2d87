"""The local runtime creates the replica-region tables with the TTL the CDK app gives them."""

from __future__ import annotations

import boto3
import pytest

from deployconfig.config import load
from localrun.aws.tables import create_replica_tables
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
