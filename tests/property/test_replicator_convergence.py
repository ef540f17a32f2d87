"""Convergence, proven over generated histories and the ways Lambda really delivers them.

A Hypothesis state machine interleaves source writes (puts, updates, deletes over a few keys, read
back from moto's real stream) with deliveries to the real replicator the way an event source
mapping can make them: batches of any size, the same batch twice, a crash part-way through a batch
(some writes landed, no response), throttling, lost replies, partial batch failures resumed from
the lowest failed record, bisected retries, rewinds to an older checkpoint, and redrives of old
batches long after newer changes were applied.

Checked after every step: a key's version in the replica never goes backwards, and every replica
item is exactly the source state its version names (so nothing is resurrected or mixed). Checked
at the end, after the stream is drained: the replica equals the source.
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from moto import mock_aws

from ddbstream.attributes import item_from_event
from deployconfig.config import DeploymentConfig
from deployconfig.config import load as load_config
from faultlab.faults import FaultInjector, SimulatedCrash
from localrun.aws.tables import create_replica_tables, create_source_table
from replicator.adapters import writer
from replicator.adapters.apply import Executor
from replicator.adapters.retry import Backoff
from replicator.core import schema
from replicator.handler import Replicator, build_replicator
from replicator.settings import from_environ
from tests.support.events import key
from tests.support.replication import BASE_ENV, by_key, scan_all, without_metadata
from tests.support.serial import serialise_every_request
from tests.support.streams import StreamTap

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

# moto rolls back a failed transaction by restoring whole tables, undoing other keys' concurrent
# writes; DynamoDB never does. Without this, the replicator's concurrent writes fail the proof on
# moto's behalf, not on the protocol's (tests/support/serial.py).
serialise_every_request()

USERS = st.sampled_from(["ann", "bob", "cid"])
VALUES = st.integers(min_value=0, max_value=3)
FAULTS = st.sampled_from(["none", "none", "crash", "throttle", "lost-reply", "stuck-key"])


class Clock:
    """A Lambda context whose remaining time is short, so failing writes give up quickly."""

    def __init__(self, millis: int) -> None:
        self.millis = millis
        self.aws_request_id = "convergence"

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


@dataclass(frozen=True)
class Clients:
    """The AWS clients and the replicator under test. They hold no state between examples (moto's
    is reset for each one), and building them took longer than the tables and most examples, so
    they are built once: moto intercepts any client's requests while a mock is active."""

    config: DeploymentConfig
    source: DynamoDBClient
    replica: DynamoDBClient
    streams: DynamoDBStreamsClient
    replicator: Replicator


@functools.cache
def clients() -> Clients:
    config = load_config()
    base = build_replicator(from_environ(BASE_ENV), out=io.StringIO())
    # No real sleeping and no minimum attempt time: retries happen, but tests stay fast.
    executor = Executor(max_workers=4, min_attempt_seconds=0.0, backoff_factory=Backoff, sleep=lambda _: None)
    return Clients(
        config=config,
        source=boto3.client("dynamodb", region_name=config.source_region),
        replica=boto3.client("dynamodb", region_name=config.replica_region),
        streams=boto3.client("dynamodbstreams", region_name=config.source_region),
        replicator=Replicator(base.settings, base.writer, executor, io.StringIO()),
    )


class ReplicationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # A fresh moto for each example: new tables, a new stream, an empty replica and state table.
        self.mock = mock_aws()
        self.mock.start()
        shared = clients()
        self.source, self.replica, self.replicator = shared.source, shared.replica, shared.replicator
        stream_arn = create_source_table(self.source, shared.config)
        create_replica_tables(self.replica, shared.config)
        self.tap = StreamTap(shared.streams, stream_arn)
        self.stream: list[dict[str, Any]] = []
        self.checkpoint = 0
        self.last_batch: list[dict[str, Any]] = []
        self.highest_version: dict[str, str] = {}

    # -- the source application ------------------------------------------------------------------

    @rule(user=USERS, value=VALUES)
    def put(self, user: str, value: int) -> None:
        self.source.put_item(TableName="Users", Item={**key(user), "v": {"N": str(value)}})

    @rule(user=USERS, value=VALUES)
    def update(self, user: str, value: int) -> None:
        self.source.update_item(
            TableName="Users",
            Key=key(user),
            UpdateExpression="SET w = :w",
            ExpressionAttributeValues={":w": {"N": str(value)}},
        )

    @rule(user=USERS)
    def delete(self, user: str) -> None:
        self.source.delete_item(TableName="Users", Key=key(user))

    # -- the event source mapping ----------------------------------------------------------------

    def _pull(self) -> None:
        self.stream.extend(self.tap.read())

    def _invoke(self, batch: list[dict[str, Any]], fault: str, after: int) -> dict[str, Any] | None:
        """One invocation; None when the runtime crashed (Lambda sees a function error)."""
        client = self.replicator.writer.client
        injector = FaultInjector(client)
        millis = 60_000
        if fault == "crash":
            injector.crash_after(after)
        elif fault == "throttle":
            injector.throttle_first(after + 1)
        elif fault == "lost-reply":
            injector.lose_reply(frozenset({after + 1, after + 2}))
        elif fault == "stuck-key":
            # writes keep being throttled until the invocation's time is up: a partial batch failure
            injector.fail_always(400, "ThrottlingException")
            millis = 30
        try:
            return self.replicator.handle({"Records": batch}, Clock(millis))
        except SimulatedCrash:
            return None
        finally:
            injector.remove()

    def _deliver(self, batch: list[dict[str, Any]], fault: str = "none", after: int = 0) -> int:
        """Deliver ``batch`` as Lambda would; returns how many records it may now checkpoint past."""
        self.last_batch = batch
        response = self._invoke(batch, fault, after)
        if response is None:
            return 0  # function error: the same records come again
        failed = [int(item["itemIdentifier"]) for item in response["batchItemFailures"]]
        if not failed:
            return len(batch)
        lowest = min(failed)
        return next(i for i, r in enumerate(batch) if int(r["dynamodb"]["SequenceNumber"]) == lowest)

    @rule(
        size=st.integers(min_value=1, max_value=8), fault=FAULTS, after=st.integers(min_value=0, max_value=3)
    )
    def deliver_next_batch(self, size: int, fault: str, after: int) -> None:
        self._pull()
        batch = self.stream[self.checkpoint : self.checkpoint + size]
        if batch:
            self.checkpoint += self._deliver(batch, fault, after)

    @rule(size=st.integers(min_value=2, max_value=8))
    def bisect_after_function_error(self, size: int) -> None:
        """BisectBatchOnFunctionError: a crashed batch is retried as two halves, in order."""
        self._pull()
        batch = self.stream[self.checkpoint : self.checkpoint + size]
        if len(batch) < 2 or self._deliver(batch, "crash", 1) == len(batch):
            return
        half = len(batch) // 2
        done = self._deliver(batch[:half])
        self.checkpoint += done
        if done == half:
            self.checkpoint += self._deliver(batch[half:])

    @precondition(lambda self: bool(self.last_batch))
    @rule()
    def deliver_the_same_batch_again(self) -> None:
        self._deliver(list(self.last_batch))

    @precondition(lambda self: self.checkpoint > 0)
    @rule(back=st.integers(min_value=1, max_value=6))
    def rewind_to_an_older_checkpoint(self, back: int) -> None:
        self.checkpoint = max(0, self.checkpoint - back)

    @precondition(lambda self: self.checkpoint > 0)
    @rule(start=st.integers(min_value=0, max_value=60), size=st.integers(min_value=1, max_value=6))
    def redrive_an_old_batch(self, start: int, size: int) -> None:
        start = start % self.checkpoint
        self._deliver(self.stream[start : start + size])

    # -- validators ------------------------------------------------------------------------------

    @invariant()
    def replica_items_are_source_states_and_never_go_back(self) -> None:
        states = {int(r["dynamodb"]["SequenceNumber"]): r["dynamodb"].get("NewImage") for r in self.stream}
        for identity, item in by_key(scan_all(self.replica, "Users")).items():
            version = item[schema.VERSION_ATTRIBUTE]["S"]
            assert version >= self.highest_version.get(identity, ""), "a replica item went backwards"
            self.highest_version[identity] = version
            image = states.get(int(version))
            assert image is not None, "a replica item carries a version no put record has"
            assert without_metadata(item) == item_from_event(image, "NewImage"), (
                "a replica item differs from the source state its version names"
            )

    def teardown(self) -> None:
        try:
            self._pull()
            while self.checkpoint < len(self.stream):
                self.checkpoint += self._deliver(self.stream[self.checkpoint : self.checkpoint + 10])
            source = by_key(scan_all(self.source, "Users"))
            replica = {k: without_metadata(v) for k, v in by_key(scan_all(self.replica, "Users")).items()}
            assert replica == source, "after draining the stream the replica must equal the source"
        finally:
            self.mock.stop()


examples = int(os.environ.get("CONVERGENCE_EXAMPLES", "60"))
TestConvergence = ReplicationMachine.TestCase
TestConvergence.settings = settings(max_examples=examples, stateful_step_count=40, deadline=None)


def test_the_validators_catch_a_replicator_that_writes_without_its_version_condition(monkeypatch):
    # GIVEN a broken writer whose conditions accept any different version, older ones included
    monkeypatch.setattr(writer, "_NEWER", "attribute_not_exists(#v) OR #v <> :v")
    monkeypatch.setattr(writer, "_OLDER_THERE", "#v <> :v")
    # WHEN the same state machine runs against it
    # THEN it finds a history that breaks convergence: an older version overwrites a newer one (seen
    # after the step that did it), or, when the key was deleted meanwhile, the drained replica differs
    # from the source. Not any assertion: a harness error or an item that matches no source state
    # would be a different bug.
    with pytest.raises(
        AssertionError,
        match=r"a replica item went backwards|after draining the stream the replica must equal the source",
    ):
        run_state_machine_as_test(
            ReplicationMachine,
            settings=settings(
                max_examples=200,
                stateful_step_count=40,
                deadline=None,
                database=None,
                phases=(Phase.generate,),  # finding one counterexample is the point; no shrinking
                report_multiple_bugs=False,
            ),
        )
