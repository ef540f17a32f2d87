"""boto3 clients for the local runtime: one factory per endpoint, clients cached per service and region.

Three targets share this code: the embedded moto server (fake credentials are supplied), another
endpoint given with ``--endpoint-url`` (the caller's credentials are used), and real AWS (no endpoint
override, the default credential chain). Clients are created on first use under a lock: creating
clients from one boto3 session is not thread-safe, using them afterwards is.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)

from localrun.aws.credentials import EXPORT_FAKE_CREDENTIALS, FAKE_CREDENTIALS
from localrun.errors import LocalRunError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient


# botocore >= 1.44 sends DynamoDB calls to account-specific hosts; with an endpoint override the
# host is ours anyway, and in-process moto cannot route them (see docs/local-runtime.md). The
# regional endpoint behaves identically in real AWS.
_CONFIG = Config(
    account_id_endpoint_mode="disabled",
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=32,
)


class AwsClients:
    """Creates and caches clients for one target (an endpoint URL, or real AWS when ``None``)."""

    def __init__(self, endpoint_url: str | None = None, *, fake_credentials: bool = False) -> None:
        self.endpoint_url = endpoint_url
        self.fake_credentials = fake_credentials
        if fake_credentials:
            self._session = boto3.session.Session(
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            )
        else:
            self._session = boto3.session.Session()
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Any] = {}

    @overload
    def client(self, service: Literal["dynamodb"], region: str) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["dynamodbstreams"], region: str) -> DynamoDBStreamsClient: ...
    @overload
    def client(self, service: Literal["sqs"], region: str) -> SQSClient: ...
    @overload
    def client(self, service: Literal["cloudwatch"], region: str) -> CloudWatchClient: ...
    @overload
    def client(self, service: Literal["lambda"], region: str) -> Any: ...

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=_CONFIG,
                )
            return self._cache[key]

    def dynamodb(self, region: str) -> DynamoDBClient:
        return self.client("dynamodb", region)

    def streams(self, region: str) -> DynamoDBStreamsClient:
        return self.client("dynamodbstreams", region)

    def sqs(self, region: str) -> SQSClient:
        return self.client("sqs", region)

    def cloudwatch(self, region: str) -> CloudWatchClient:
        return self.client("cloudwatch", region)

    def lambda_(self, region: str) -> Any:
        """Lambda (its event source mappings: the third-reader guard); ``Any``: no stubs in the dev pins."""
        return self.client("lambda", region)

    def probe(self, region: str) -> None:
        """One request without retries; raises LocalRunError naming the endpoint if it does not answer."""
        client = self._session.client(
            "dynamodb",
            region_name=region,
            endpoint_url=self.endpoint_url,
            config=_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1})),
        )
        where = (
            f"the endpoint {self.endpoint_url} (--endpoint-url)" if self.endpoint_url else f"AWS in {region}"
        )
        try:
            client.list_tables(Limit=1)
        except NoCredentialsError:
            raise LocalRunError(
                f"no AWS credentials to reach {where}; against a local endpoint any credentials work: "
                f"{EXPORT_FAKE_CREDENTIALS}"
            ) from None
        except (EndpointConnectionError, ConnectTimeoutError):
            raise LocalRunError(
                f"cannot reach {where}: is the server running? Leave out --endpoint-url to start an "
                "embedded one"
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise LocalRunError(f"{where} refused a DynamoDB request ({code})") from None
        except BotoCoreError as exc:
            raise LocalRunError(f"{where} did not answer a DynamoDB request ({type(exc).__name__})") from None
