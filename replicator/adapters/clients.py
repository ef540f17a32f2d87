"""The boto3 client for the replica region, optionally through an assumed role in another account."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
ROLE_SESSION_NAME = "dynamodb-stream-replicator"


def assumed_role_session(base: boto3.Session, role_arn: str, *, region: str) -> boto3.Session:
    """A session whose credentials come from ``sts:AssumeRole`` and refresh before they expire.

    botocore's ``DeferredRefreshableCredentials`` fetches on first use and again whenever the
    credentials are within their refresh window, so a long-lived Lambda container keeps writing.
    """
    source = base.get_credentials()
    if source is None:
        raise RuntimeError("no AWS credentials to assume REPLICA_ROLE_ARN with")
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=base._session.create_client,
        source_credentials=source,
        role_arn=role_arn,
        extra_args={"RoleSessionName": ROLE_SESSION_NAME},
    )
    core = botocore.session.Session()
    core._credentials = DeferredRefreshableCredentials(  # type: ignore[attr-defined]
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return boto3.Session(botocore_session=core, region_name=region)


def replica_client(
    *,
    region: str,
    endpoint_url: str | None,
    role_arn: str | None,
    max_connections: int,
    base: boto3.Session | None = None,
) -> DynamoDBClient:
    """A DynamoDB client for the replica: pool sized for concurrent writes, no hidden retries.

    Retries are ours (``replicator.adapters.retry``) because they must respect the invocation's deadline;
    botocore would otherwise retry up to its own limits with backoffs of up to 20 s.
    """
    session = base or boto3.Session()
    if role_arn:
        session = assumed_role_session(session, role_arn, region=region)
    config = Config(
        region_name=region,
        max_pool_connections=max_connections,
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        tcp_keepalive=True,
    )
    return session.client("dynamodb", endpoint_url=endpoint_url, config=config)
