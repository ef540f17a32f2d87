"""The source region's Lambda side as the CDK app deploys it, made in moto: the replicator and
usage-metrics functions, one event source mapping each on the source stream, and the replicator's
failure queue as its mapping's on-failure destination.

moto keeps the functions and mappings (it never invokes them here: no item is written after they
exist). Used by the doctor's tests and the third-reader guard's tests.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import boto3

from tests.support.aws import Regions

_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@dataclass
class Deployed:
    regions: Regions
    role_arn: str
    queue_url: str
    queue_arn: str
    mappings: dict[str, str]
    """Function name -> mapping UUID."""

    @property
    def lambda_(self) -> Any:
        return boto3.client("lambda", region_name=self.regions.config.source_region)

    @property
    def sqs(self) -> Any:
        return boto3.client("sqs", region_name=self.regions.config.source_region)

    def function(self, name: str, *, handler: str, environment: dict[str, str]) -> None:
        self.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=self.role_arn,
            Handler=handler,
            Code={"ZipFile": _code()},
            Environment={"Variables": environment},
        )

    def mapping(self, name: str, **settings: Any) -> str:
        """A mapping of ``name`` on the source stream (``settings`` as CreateEventSourceMapping's)."""
        uuid = str(
            self.lambda_.create_event_source_mapping(
                EventSourceArn=self.regions.stream_arn,
                FunctionName=name,
                StartingPosition="TRIM_HORIZON",
                **settings,
            )["UUID"]
        )
        self.mappings[name] = uuid
        return uuid

    def reader(self, name: str) -> str:
        """Another function reading the stream (a third reader, for instance)."""
        self.function(name, handler="other.handler", environment={})
        return self.mapping(name)


def deploy(regions: Regions) -> Deployed:
    """Both consumers and their mappings, as the CDK app's source stack creates them."""
    cfg = regions.config
    role = boto3.client("iam").create_role(
        RoleName=cfg.replicator_role_name, AssumeRolePolicyDocument=json.dumps(_TRUST)
    )["Role"]["Arn"]
    sqs = boto3.client("sqs", region_name=cfg.source_region)
    url = sqs.create_queue(QueueName=cfg.failure_queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deployed = Deployed(regions, role, url, arn, {})
    deployed.function(
        cfg.replicator_function_name,
        handler="replicator.handler.handler",
        environment=cfg.replicator_environment(),
    )
    deployed.function(
        cfg.metrics_function_name, handler="metrics.handler.handler", environment=cfg.metrics_environment()
    )
    for name in (cfg.replicator_function_name, cfg.metrics_function_name):
        deployed.mapping(
            name,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            BisectBatchOnFunctionError=True,
            DestinationConfig={"OnFailure": {"Destination": arn}},
        )
    return deployed
