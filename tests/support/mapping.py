"""An event source mapping over the moto stream of a test, its failure queue, and a loop driver.

The fixtures are imported by the conftest of the tiers that use them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from localrun.esm import CheckpointStore, EventSourceMapping, MappingSettings, SqsDestination
from localrun.invoke.capture import OutputRouter
from localrun.invoke.function import Function
from tests.support.aws import Regions
from tests.support.esm import Clock

FUNCTION = "Users-replicator"

MappingFactory = Callable[..., EventSourceMapping]


class FailureQueue:
    """The on-failure SQS queue (moto) and what has arrived in it."""

    def __init__(self) -> None:
        self.client = boto3.client("sqs", region_name="us-east-1")
        self.url = self.client.create_queue(QueueName="Users-replication-failures")["QueueUrl"]

    def messages(self) -> list[dict[str, Any]]:
        found = self.client.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in found]


@pytest.fixture
def failure_queue(regions: Regions) -> FailureQueue:
    return FailureQueue()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_mapping(regions: Regions, clock: Clock) -> Iterator[MappingFactory]:
    """An event source mapping on the source table's stream, polled on every tick, no backoff.

    Extra keywords go to the mapping (``shards=4, partition_key="user_id"`` for virtual shards);
    the mappings' thread pools are shut down after the test."""
    built: list[EventSourceMapping] = []

    def build(
        handler: Any,
        *,
        settings: MappingSettings | None = None,
        timeout: float = 3.0,
        queue: FailureQueue | None = None,
        checkpoints: CheckpointStore | None = None,
        router: OutputRouter | None = None,
        backoff: Callable[[int], float] = lambda retries: 0.0,
        **extra: Any,
    ) -> EventSourceMapping:
        mapping = EventSourceMapping(
            function=Function(FUNCTION, handler, timeout_seconds=timeout),
            stream_arn=regions.stream_arn,
            streams=boto3.client("dynamodbstreams", region_name="us-east-1"),
            settings=settings or MappingSettings(poll_interval_seconds=0),
            router=router or OutputRouter(),
            destination=SqsDestination(queue.client, queue.url) if queue else None,
            checkpoints=checkpoints,
            backoff=backoff,
            clock=clock,
            **extra,
        )
        built.append(mapping)
        return mapping

    yield build
    for mapping in built:
        mapping.close()


def drive(mapping: EventSourceMapping, ticks: int = 20) -> None:
    """Run the mapping's loop synchronously for a number of rounds."""
    for _ in range(ticks):
        mapping.tick()
