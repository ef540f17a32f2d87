"""The local deployment: the tables and queues the CDK app would create, made on an endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from deployconfig.config import DeploymentConfig
from localrun.aws.clients import AwsClients
from localrun.aws.tables import create_replica_tables, create_source_table, create_usage_table


@dataclass(frozen=True, slots=True)
class LocalDeployment:
    cfg: DeploymentConfig
    stream_arn: str
    failure_queue_url: str
    metrics_failure_queue_url: str


def _exists(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ResourceInUseException"


def _stream_of(clients: AwsClients, cfg: DeploymentConfig) -> str:
    table = clients.dynamodb(cfg.source_region).describe_table(TableName=cfg.table_name)["Table"]
    arn = table.get("LatestStreamArn")
    if not arn or not table.get("StreamSpecification", {}).get("StreamEnabled"):
        raise RuntimeError(f"table {cfg.table_name} in {cfg.source_region} exists but has no enabled stream")
    return arn


def provision(cfg: DeploymentConfig, clients: AwsClients) -> LocalDeployment:
    """Create (or reuse, on an endpoint that already has them) the tables and failure queues."""
    try:
        stream_arn = create_source_table(clients.dynamodb(cfg.source_region), cfg)
    except ClientError as exc:
        if not _exists(exc):
            raise
        stream_arn = _stream_of(clients, cfg)
    try:
        create_replica_tables(clients.dynamodb(cfg.replica_region), cfg)
    except ClientError as exc:
        if not _exists(exc):
            raise
    try:
        create_usage_table(clients.dynamodb(cfg.source_region), cfg)
    except ClientError as exc:
        if not _exists(exc):
            raise
    sqs = clients.sqs(cfg.source_region)
    return LocalDeployment(
        cfg=cfg,
        stream_arn=stream_arn,
        failure_queue_url=sqs.create_queue(QueueName=cfg.failure_queue_name)["QueueUrl"],
        metrics_failure_queue_url=sqs.create_queue(QueueName=cfg.metrics_failure_queue_name)["QueueUrl"],
    )
