"""The moto fixtures: an in-process AWS, and the deployment's tables in two regions.

Imported by the conftest of each tier that talks to (mocked) AWS; never by the unit tier.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from deployconfig.config import DeploymentConfig
from deployconfig.config import load as load_config
from localrun.aws.tables import create_replica_tables, create_source_table, create_usage_table
from metrics.store import UsageStore
from tests.support.serial import serialise_every_request
from tests.support.streams import StreamTap

# Every tier that uses in-process moto imports this module: from here on its requests are
# serialised, as DynamoDB's per-item isolation would make them (see tests/support/serial.py).
serialise_every_request()

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def config() -> DeploymentConfig:
    """The deployment configuration from cdk.json (the Users table, us-east-1 -> eu-west-1)."""
    return load_config()


@pytest.fixture
def aws() -> Iterator[None]:
    """An in-process moto for every AWS service, reset for each test."""
    with mock_aws():
        yield


@dataclass
class Regions:
    config: DeploymentConfig
    source: DynamoDBClient
    replica: DynamoDBClient
    stream_arn: str
    tap: StreamTap


@pytest.fixture
def regions(aws: None, config: DeploymentConfig) -> Regions:
    """Source table with its stream in us-east-1; replica and state tables in eu-west-1."""
    source = boto3.client("dynamodb", region_name=config.source_region)
    replica = boto3.client("dynamodb", region_name=config.replica_region)
    stream_arn = create_source_table(source, config)
    create_replica_tables(replica, config)
    streams = boto3.client("dynamodbstreams", region_name=config.source_region)
    return Regions(config, source, replica, stream_arn, StreamTap(streams, stream_arn))


@pytest.fixture
def usage_store(regions: Regions) -> UsageStore:
    """The usage table in the source region (created as the CDK app creates it), and its adapter."""
    name = create_usage_table(regions.source, regions.config)
    return UsageStore(regions.source, name)


def put_items(regions: Regions, count: int, *, start: int = 0, user: str = "user") -> None:
    """``count`` new items in the source table (users ``<user>-<i>``), one PutItem each."""
    for i in range(start, start + count):
        regions.source.put_item(
            TableName=regions.config.table_name,
            Item={"user_id": {"S": f"{user}-{i}"}, "timestamp": {"N": str(i)}, "plan": {"S": "free"}},
        )
