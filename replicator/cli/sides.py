"""The two tables a command works on, and the AWS clients for each side.

Each side may live in another account: ``--source-profile`` / ``--replica-profile`` pick a named
profile, ``--source-role-arn`` / ``--replica-role-arn`` assume a role (with refreshing
credentials, through the replicator's own :func:`~replicator.adapters.clients.assumed_role_session`).
Clients have botocore's retries switched off: throttling is retried by :mod:`replicator.cli.scan`
with our backoff and our rate limit, so that it is counted and never silently given up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
)

from replicator.adapters.classify import DENIED_CODES
from replicator.adapters.clients import assumed_role_session, replica_client
from replicator.cli.errors import AccessProblem, CliError, TableProblem, UsageError
from replicator.cli.options import LOCAL_CREDENTIALS, SideOptions, TableRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient


_LOCAL_HINT = f"against a local endpoint any credentials work: {LOCAL_CREDENTIALS}"


@dataclass(frozen=True, slots=True)
class Side:
    """One table and how to reach it; every error about reaching it names what the operator typed."""

    options: SideOptions
    where: str
    """"source" or "replica": names the side (and its ``--<side>-*`` options) in messages."""

    @property
    def ref(self) -> TableRef:
        return self.options.ref

    @property
    def table(self) -> str:
        return self.options.ref.table

    @property
    def region(self) -> str:
        return self.options.ref.region

    @property
    def endpoint_url(self) -> str | None:
        return self.options.endpoint_url

    def _endpoint(self) -> str:
        if self.options.endpoint_url:
            return f"{self.options.endpoint_url} ({self.options.endpoint_option})"
        return f"AWS in {self.region}"

    def session(self) -> boto3.Session:
        profile = self.options.profile
        try:
            base = boto3.Session(profile_name=profile, region_name=self.region)
        except ProfileNotFound as exc:
            name = profile or exc.kwargs.get("profile") or os.environ.get("AWS_PROFILE")
            given = f"--{self.where}-profile" if profile else "the AWS_PROFILE environment variable"
            fallback = "" if profile else ", or unset AWS_PROFILE to use the default credentials"
            raise UsageError(
                f"the AWS profile {name!r} ({given}) is not configured; list the profiles with "
                f"`aws configure list-profiles`{fallback}"
            ) from None
        if self.options.role_arn:
            return assumed_role_session(base, self.options.role_arn, region=self.region)
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

    def client(self, service: str, region: str | None = None, *, session: boto3.Session | None = None) -> Any:
        """A client of ``service`` for this side, with botocore's standard retries (``doctor``'s
        describe calls, the third-reader guard's Lambda call). ``Any``: the dev pins carry no stubs for
        lambda and iam."""
        return (session or self.session()).client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            config=_config(region or self.region),
        )

    def problem(self, exc: Exception, doing: str) -> CliError:
        """What went wrong reaching this side, as an error the operator can act on (never a value)."""
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", "unknown"))
            if code in DENIED_CODES or code in ("ExpiredTokenException", "InvalidClientTokenId"):
                return AccessProblem(
                    f"{doing}: {self._endpoint()} refused the {self.where} side's credentials ({code}); "
                    f"check --{self.where}-profile / --{self.where}-role-arn and the IAM permissions"
                )
            return AccessProblem(f"{doing}: {self._endpoint()} answered {code}")
        if isinstance(exc, NoCredentialsError):
            return AccessProblem(
                f"{doing}: no AWS credentials for the {self.where} side; set AWS_PROFILE or "
                f"--{self.where}-profile, or run `aws configure` ({_LOCAL_HINT})"
            )
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
            hint = (
                "is the local server running? `make demo ARGS=--keep-running` prints the URL of one"
                if self.options.endpoint_url
                else "check the network and the region"
            )
            return AccessProblem(f"{doing}: cannot reach {self._endpoint()}: {hint}")
        return AccessProblem(f"{doing}: {type(exc).__name__} talking to {self._endpoint()}")

    def queue_url(self, sqs: SQSClient, queue: str, option: str) -> str:
        """A queue URL as given, or looked up from a queue name; a missing queue is named."""
        if queue.startswith(("https://", "http://")):
            return queue
        try:
            return str(sqs.get_queue_url(QueueName=queue)["QueueUrl"])
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if "NonExistentQueue" in code or "QueueDoesNotExist" in code:
                region = sqs.meta.region_name
                raise UsageError(
                    f"the queue {queue!r} ({option}) does not exist in {region}; give its URL or name as "
                    f"`aws sqs list-queues --region {region}` shows it"
                ) from None
            raise self.problem(exc, f"looking up the queue {queue!r} ({option})") from None
        except BotoCoreError as exc:
            raise self.problem(exc, f"looking up the queue {queue!r} ({option})") from None


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


def describe(client: DynamoDBClient, side: Side, table: str, where: str) -> TableShape:
    """The table's key schema; a missing table, or a side that cannot be reached, is named."""
    try:
        description: Any = client.describe_table(TableName=table)["Table"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise TableProblem(
                f"the {where} table {table!r} does not exist in {side.region} "
                f"({side.endpoint_url or 'AWS'}); check --{side.where} and the region"
            ) from None
        raise side.problem(exc, f"describing the {where} table {table!r}") from None
    except BotoCoreError as exc:
        raise side.problem(exc, f"describing the {where} table {table!r}") from None
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
