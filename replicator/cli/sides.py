"""The two tables a command works on, and the AWS clients for each side.

Each side may live in another account: ``--source-profile`` / ``--replica-profile`` pick a named
profile, ``--source-role-arn`` / ``--replica-role-arn`` assume a role (with refreshing
credentials, through the replicator's own :func:`~replicator.adapters.clients.assumed_role_session`).
Clients have botocore's retries switched off: throttling is retried by :mod:`replicator.cli.scan`
with our backoff and our rate limit, so that it is counted and never silently given up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from ddbstream.names import is_region, is_role_arn, is_table_name
from replicator.adapters.clients import assumed_role_session, replica_client
from replicator.cli.errors import TableProblem, UsageError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True, slots=True)
class TableRef:
    region: str
    table: str

    @classmethod
    def parse(cls, text: str, option: str) -> TableRef:
        region, _, table = text.partition("/")
        if not is_region(region) or not is_table_name(table):
            raise UsageError(f"{option} must look like REGION/TABLE (e.g. us-east-1/Users); got {text!r}")
        return cls(region, table)

    def __str__(self) -> str:
        return f"{self.region}/{self.table}"


@dataclass(frozen=True, slots=True)
class Side:
    """One table and how to reach it."""

    ref: TableRef
    endpoint_url: str | None = None
    profile: str | None = None
    role_arn: str | None = None

    def __post_init__(self) -> None:
        if self.role_arn and not is_role_arn(self.role_arn):
            raise UsageError(
                f"a role ARN must look like arn:aws:iam::123456789012:role/NAME; got {self.role_arn!r}"
            )

    @property
    def table(self) -> str:
        return self.ref.table

    @property
    def region(self) -> str:
        return self.ref.region

    def session(self) -> boto3.Session:
        try:
            base = boto3.Session(profile_name=self.profile, region_name=self.region)
        except ProfileNotFound:
            raise UsageError(f"AWS profile {self.profile!r} is not configured (see ~/.aws/config)") from None
        if self.role_arn:
            return assumed_role_session(base, self.role_arn, region=self.region)
        return base

    def dynamodb(self, *, max_connections: int = 16) -> DynamoDBClient:
        """A DynamoDB client with no hidden retries (ours count throttling and respect the rate limit)."""
        return replica_client(
            region=self.region,
            endpoint_url=self.endpoint_url,
            role_arn=None,
            max_connections=max_connections,
            base=self.session(),
        )

    def streams(self) -> DynamoDBStreamsClient:
        return self.session().client(
            "dynamodbstreams", endpoint_url=self.endpoint_url, config=_config(self.region)
        )

    def sqs(self, region: str) -> SQSClient:
        return self.session().client("sqs", endpoint_url=self.endpoint_url, config=_config(region))


def _config(region: str) -> Config:
    return Config(region_name=region, retries={"mode": "standard", "max_attempts": 5})


@dataclass(frozen=True, slots=True)
class TableShape:
    """What a command needs to know about a table: its key attributes (name, type), in order."""

    keys: tuple[tuple[str, str], ...]
    item_count: int | None

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.keys)


def describe(client: DynamoDBClient, table: str, where: str) -> TableShape:
    """The table's key schema; a missing table is a :class:`TableProblem` naming it."""
    try:
        description: Any = client.describe_table(TableName=table)["Table"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise TableProblem(f"the {where} table {table!r} does not exist in that region") from None
        raise TableProblem(f"cannot describe the {where} table {table!r}: {code}") from None
    except BotoCoreError as exc:
        raise TableProblem(f"cannot reach the {where} table {table!r}: {type(exc).__name__}") from None
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    ordered = sorted(description["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
    keys = tuple((k["AttributeName"], types[k["AttributeName"]]) for k in ordered)
    return TableShape(keys, description.get("ItemCount"))


def same_keys(source: TableShape, replica: TableShape) -> None:
    if source.keys != replica.keys:
        raise TableProblem(
            f"the tables have different key schemas (source {list(source.keys)}, "
            f"replica {list(replica.keys)}); the replica must have the source's keys"
        )


def ttl_attribute(client: DynamoDBClient, table: str) -> str | None:
    """The source table's TTL attribute, when TTL is enabled (or being enabled); None otherwise."""
    try:
        spec: Any = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise TableProblem(
            f"cannot read the TTL setting of {table!r} ({code}); name the attribute with --ttl-attribute"
        ) from None
    except BotoCoreError as exc:
        raise TableProblem(f"cannot read the TTL setting of {table!r} ({type(exc).__name__})") from None
    if spec.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return str(spec.get("AttributeName")) or None
    return None
