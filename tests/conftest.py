"""Shared fixtures: moto with two regions, the deployment's tables, a tap on the source stream.

botocore >= 1.44 sends DynamoDB Streams calls to an account-specific endpoint that moto's
in-process mock does not route; account-id endpoint mode must be off before any client exists.
"""

from __future__ import annotations

import os

os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws

from deployconfig.config import DeploymentConfig
from deployconfig.config import load as load_config
from localrun.aws.tables import create_replica_tables, create_source_table
from tests.support.cdk_app import cdk_all_options, cdk_default, cdk_imported_table  # noqa: F401 (fixtures)
from tests.support.streams import StreamTap

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SOURCE_REGION = "us-east-1"
REPLICA_REGION = "eu-west-1"


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
