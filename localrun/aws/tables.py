"""Create the source, replica and state tables from the deployment configuration.

The CDK app and the local runtime read the same :class:`deployconfig.config.DeploymentConfig`, so the
tables a local run or a test creates have the key schema, stream and TTL the deployed ones have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deployconfig.config import DeploymentConfig
from metrics import schema as usage_schema
from replicator.core import schema

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _key_schema(cfg: DeploymentConfig) -> tuple[list[Any], list[Any]]:
    keys: list[Any] = [{"AttributeName": cfg.partition_key.name, "KeyType": "HASH"}]
    attrs: list[Any] = [{"AttributeName": cfg.partition_key.name, "AttributeType": cfg.partition_key.type}]
    if cfg.sort_key:
        keys.append({"AttributeName": cfg.sort_key.name, "KeyType": "RANGE"})
        attrs.append({"AttributeName": cfg.sort_key.name, "AttributeType": cfg.sort_key.type})
    return keys, attrs


def _point_in_time_recovery(client: DynamoDBClient, table: str) -> None:
    """PITR on, as the CDK app creates every table (``doctor`` checks it)."""
    client.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def create_source_table(client: DynamoDBClient, cfg: DeploymentConfig, *, name: str | None = None) -> str:
    """Create the source table with a NEW_AND_OLD_IMAGES stream and PITR; returns the stream ARN."""
    keys, attrs = _key_schema(cfg)
    table = name or cfg.table_name
    response = client.create_table(
        TableName=table,
        KeySchema=keys,
        AttributeDefinitions=attrs,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    _point_in_time_recovery(client, table)
    if cfg.ttl_attribute:
        client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": cfg.ttl_attribute}
        )
    return response["TableDescription"]["LatestStreamArn"]


def create_replica_tables(client: DynamoDBClient, cfg: DeploymentConfig, *, name: str | None = None) -> None:
    """Create the replica table and its state table, as the CDK app does (PITR on both).

    Same key schema as the source; no TTL of its own (it follows the source's TTL deletes) unless
    ``ttlDeletes=expire``, where it expires items on the source's TTL attribute.
    """
    keys, attrs = _key_schema(cfg)
    table = name or cfg.replica_table_name
    state = schema.default_state_table(table) if name else cfg.state_table_name
    client.create_table(
        TableName=table, KeySchema=keys, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST"
    )
    client.create_table(
        TableName=state,
        KeySchema=[{"AttributeName": schema.STATE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": schema.STATE_PARTITION_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for each in (table, state):
        client.get_waiter("table_exists").wait(TableName=each, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        _point_in_time_recovery(client, each)
    expiring = [(state, schema.STATE_TTL_ATTRIBUTE)]
    if cfg.replica_ttl_attribute:
        expiring.append((table, cfg.replica_ttl_attribute))
    for each, attribute in expiring:
        client.update_time_to_live(
            TableName=each, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )


def create_usage_table(client: DynamoDBClient, cfg: DeploymentConfig, *, name: str | None = None) -> str:
    """Create the usage table (window summaries, merged sketches) as the CDK app does: ``pk`` and
    ``sk`` strings, TTL on ``expires_at``. Returns its name."""
    table = name or cfg.usage_table_name
    client.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": usage_schema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": usage_schema.SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": usage_schema.PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": usage_schema.SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    client.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": usage_schema.TTL_ATTRIBUTE},
    )
    return table
