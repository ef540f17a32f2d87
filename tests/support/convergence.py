"""The replication state machine: histories, deliveries and racing actors, checked after every step.

Source writes (puts, updates, deletes, and a key re-inserted and deleted in quick succession) are
read back from moto's real stream and delivered to the real replicator the way an event source
mapping can deliver them: batches of any size, the same batch twice, any sub-range of the last
batch alone (bisect, resume, redrive), crashes part-way, throttling, lost replies, partial batch
failures, rewinds, redrives of old batches.

Racing with that, one request at a time (``tests/support/actors.py``): a *stepped* live invocation
whose tombstone read and puts are separate steps, a crash of it whose last request lands late,
redrive's guarded replay of an old range, and an operator's repair and backfill of a key.

Checked after every step:

* every replica item is a state the source really had: the image of the record its version names,
  or the state a repair or backfill read from the source and wrote at that version;
* a visible item's version never goes backwards (unless a deleted item is being exposed, below);
* **no deleted item is exposed** (an item visible while its key's tombstone is newer), except in
  the interleavings docs/design.md allows, each named by the step that opened it: a REMOVE
  between its two writes, a put whose tombstone read was overtaken by another actor's delete,
  and a late request of a crashed invocation. With ``strict_exposure`` any exposure fails.

Checked at the end, after every actor finished and the stream was drained: nothing is exposed,
and the replica equals the source.
"""

from __future__ import annotations

import functools
import io
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import boto3
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from moto import mock_aws

from ddbstream import key_hash
from ddbstream.attributes import item_from_event
from deployconfig.config import DeploymentConfig
from deployconfig.config import load as load_config
from faultlab.faults import FaultInjector, SimulatedCrash
from localrun.aws.tables import create_replica_tables, create_source_table
from replicator.adapters.apply import Executor
from replicator.adapters.reconcile import Reconciler
from replicator.adapters.retry import Backoff
from replicator.adapters.writer import ReplicaWriter
from replicator.core import schema
from replicator.core.policy import Policy
from replicator.core.protocol import Call
from replicator.handler import Replicator, build_replicator
from replicator.settings import from_environ
from tests.support.actors import Did, Invocation, Kind, Repair
from tests.support.events import key
from tests.support.replication import BASE_ENV, by_key, scan_all, without_metadata
from tests.support.streams import StreamTap

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

USERS = st.sampled_from(["ann", "bob", "cid"])
VALUES = st.integers(min_value=0, max_value=3)
FAULTS = st.sampled_from(["none", "none", "crash", "throttle", "lost-reply", "stuck-key"])
STATE = "Users-replication-state"
_NOT_FOUND = object()
DELIVERY_MILLIS = int(os.environ.get("CONVERGENCE_DELIVERY_MILLIS", "60000"))
"""An invocation's time. Retries here neither sleep nor wait for a minimum attempt time, so a
mutant that makes every write retryable spins until this runs out: `make mutate` sets 2 s."""


class Clock:
    """A Lambda context whose remaining time is short, so failing writes give up quickly."""

    def __init__(self, millis: int) -> None:
        self.millis = millis
        self.aws_request_id = "convergence"

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


@dataclass(frozen=True)
class Clients:
    """Clients and the replicator under test, built once: moto intercepts any client's requests
    while a mock is active, and its state is reset for each example."""

    config: DeploymentConfig
    source: DynamoDBClient
    replica: DynamoDBClient
    actors: DynamoDBClient
    streams: DynamoDBStreamsClient
    replicator: Replicator


@functools.cache
def clients() -> Clients:
    config = load_config()
    base = build_replicator(from_environ(BASE_ENV), out=io.StringIO())
    executor = Executor(max_workers=4, min_attempt_seconds=0.0, backoff_factory=Backoff, sleep=lambda _: None)
    return Clients(
        config=config,
        source=boto3.client("dynamodb", region_name=config.source_region),
        replica=boto3.client("dynamodb", region_name=config.replica_region),
        actors=boto3.client("dynamodb", region_name=config.replica_region),
        streams=boto3.client("dynamodbstreams", region_name=config.source_region),
        replicator=Replicator(base.settings, base.writer, executor, io.StringIO()),
    )


def _identity(keys: dict[str, Any]) -> str:
    return next(iter(by_key([keys])))


def json_key(identity: str) -> dict[str, Any]:
    """The primary key back from an identity (by_key's JSON list of the key values)."""
    user_id, timestamp = json.loads(identity)
    return {"user_id": user_id, "timestamp": timestamp}


class ReplicationMachine(RuleBasedStateMachine):
    strict_exposure: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        shared = clients()
        self.source, self.replica, self.replicator = shared.source, shared.replica, shared.replicator
        stream_arn = create_source_table(self.source, shared.config)
        create_replica_tables(self.replica, shared.config)
        self.tables = self.replicator.writer.tables
        self.actor_client = shared.actors
        self.tap = StreamTap(shared.streams, stream_arn)
        self.stream: list[dict[str, Any]] = []
        self.checkpoint = 0
        self.last_batch: list[dict[str, Any]] = []
        self.highest_version: dict[str, str] = {}
        self.written_states: dict[tuple[str, str], dict[str, Any]] = {}
        self.live: Invocation | None = None
        self.others: list[Invocation | Repair] = []
        self.late: list[Call] = []
        self.late_until = 0
        self.exposed: set[str] = set()
        self.exposures_seen: set[str] = set()
        self.last_did: Did | None = None
        self.crashed = False

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

    @rule(user=USERS, value=VALUES)
    def reinsert_then_delete_then_reinsert(self, user: str, value: int) -> None:
        """Several changes of one key in a row: they tend to land in one batch and be coalesced."""
        self.put(user, value)
        self.delete(user)
        self.put(user, value + 1)

    # -- the event source mapping (one invocation at a time per shard) ---------------------------

    def _pull(self) -> None:
        self.stream.extend(self.tap.read())

    def _close_late_window(self, end: int) -> None:
        """Requests a crashed invocation left on the wire are executed before Lambda delivers
        records beyond the crashed batch (docs/design.md, "Late requests"): past that, they are gone."""
        if end > self.late_until:
            self.late.clear()

    def _invoke(self, batch: list[dict[str, Any]], fault: str, after: int) -> dict[str, Any] | None:
        """One invocation through the real handler; None when the runtime crashed."""
        client = self.replicator.writer.client
        injector = FaultInjector(client)
        millis = DELIVERY_MILLIS
        if fault == "crash":
            injector.crash_after(after)
        elif fault == "throttle":
            injector.throttle_first(after + 1)
        elif fault == "lost-reply":
            injector.lose_reply(frozenset({after + 1, after + 2}))
        elif fault == "stuck-key":
            injector.fail_always(400, "ThrottlingException")
            millis = 30
        try:
            return self.replicator.handle({"Records": batch}, Clock(millis))
        except SimulatedCrash:
            self.crashed = True  # the rule's deliveries may have stopped a REMOVE half-way
            return None
        finally:
            injector.remove()

    def _deliver(self, batch: list[dict[str, Any]], fault: str = "none", after: int = 0) -> int:
        """Deliver ``batch`` as Lambda would; returns how many records it may now checkpoint past."""
        self.last_batch = batch
        response = self._invoke(batch, fault, after)
        if response is None:
            return 0
        failed = [int(item["itemIdentifier"]) for item in response["batchItemFailures"]]
        if not failed:
            return len(batch)
        lowest = min(failed)
        return next(i for i, r in enumerate(batch) if int(r["dynamodb"]["SequenceNumber"]) == lowest)

    def _next(self, size: int) -> list[dict[str, Any]]:
        self._pull()
        batch = self.stream[self.checkpoint : self.checkpoint + size]
        self._close_late_window(self.checkpoint + len(batch))
        return batch

    @precondition(lambda self: self.live is None)
    @rule(
        size=st.integers(min_value=1, max_value=8), fault=FAULTS, after=st.integers(min_value=0, max_value=3)
    )
    def deliver_next_batch(self, size: int, fault: str, after: int) -> None:
        batch = self._next(size)
        if batch:
            self.checkpoint += self._deliver(batch, fault, after)

    @precondition(lambda self: self.live is None)
    @rule(size=st.integers(min_value=2, max_value=8))
    def bisect_after_function_error(self, size: int) -> None:
        """BisectBatchOnFunctionError: a crashed batch is retried as two halves, in order."""
        batch = self._next(size)
        if len(batch) < 2 or self._deliver(batch, "crash", 1) == len(batch):
            return
        half = len(batch) // 2
        done = self._deliver(batch[:half])
        self.checkpoint += done
        if done == half:
            self.checkpoint += self._deliver(batch[half:])

    @precondition(lambda self: self.live is None and bool(self.last_batch))
    @rule()
    def deliver_the_same_batch_again(self) -> None:
        self._deliver(list(self.last_batch))

    @precondition(lambda self: self.live is None and bool(self.last_batch))
    @rule(start=st.integers(min_value=0, max_value=7), length=st.integers(min_value=1, max_value=4))
    def deliver_a_sub_range_of_the_last_batch_alone(self, start: int, length: int) -> None:
        """A bisected half, a resumed tail or a redriven range: any part of a batch, delivered alone."""
        batch = self.last_batch
        start %= len(batch)
        self._deliver(batch[start : start + length])
        self.last_batch = batch

    @precondition(lambda self: self.live is None and bool(self.last_batch))
    @rule()
    def bisect_the_last_batch_down_to_single_records(self) -> None:
        """A batch that keeps failing is bisected until every record is delivered alone."""
        batch = self.last_batch
        for record in batch:
            self._deliver([record])
        self.last_batch = batch

    @precondition(lambda self: self.live is None and self.checkpoint > 0)
    @rule(back=st.integers(min_value=1, max_value=6))
    def rewind_to_an_older_checkpoint(self, back: int) -> None:
        self.checkpoint = max(0, self.checkpoint - back)

    @precondition(lambda self: self.live is None and self.checkpoint > 0)
    @rule(start=st.integers(min_value=0, max_value=60), size=st.integers(min_value=1, max_value=6))
    def redeliver_an_old_batch(self, start: int, size: int) -> None:
        start = start % self.checkpoint
        self._deliver(self.stream[start : start + size])

    # -- a stepped live invocation, and its crash --------------------------------------------------

    @precondition(lambda self: self.live is None)
    @rule(size=st.integers(min_value=1, max_value=8))
    def start_a_stepped_invocation(self, size: int) -> None:
        batch = self._next(size)
        if batch:
            self.last_batch = batch
            self.live = Invocation(self._writer(), batch, "Users", policy=Policy())

    @precondition(lambda self: self.live is not None)
    @rule()
    def step_the_invocation(self) -> None:
        assert self.live is not None
        self._did(self.live.step())
        if self.live.done:
            self.checkpoint += len(self.live.batch)
            self.live = None

    @precondition(lambda self: self.live is not None)
    @rule(on_the_wire=st.booleans())
    def crash_the_invocation(self, on_the_wire: bool) -> None:
        """The runtime dies; the request it was sending may or may not reach DynamoDB, later."""
        assert self.live is not None
        pending = self.live.crash()
        if pending is not None and on_the_wire:
            self.late.append(pending)
            self.late_until = self.checkpoint + len(self.live.batch)
        self.live = None

    @precondition(lambda self: bool(self.late))
    @rule(pick=st.integers(min_value=0, max_value=3))
    def a_late_request_lands(self, pick: int) -> None:
        call = self.late.pop(pick % len(self.late))
        self._writer().send(call)
        self._did(Did(Kind.LATE))

    # -- operators racing the replicator -----------------------------------------------------------

    @precondition(lambda self: self.checkpoint > 0 and len(self.others) < 3)
    @rule(start=st.integers(min_value=0, max_value=60), size=st.integers(min_value=1, max_value=4))
    def start_a_redrive(self, start: int, size: int) -> None:
        """``redrive``: an old range replayed with guarded puts while the live replicator runs."""
        start = start % self.checkpoint
        batch = self.stream[start : start + size]
        self.others.append(Invocation(self._writer(guarded=True), batch, "Users", policy=Policy()))

    @precondition(lambda self: len(self.others) < 3)
    @rule(user=USERS, backfill=st.booleans())
    def start_a_repair_or_backfill(self, user: str, backfill: bool) -> None:
        keys = key(user)
        identity = _identity(keys)

        def read_source() -> dict[str, Any] | None:
            got = self.source.get_item(TableName="Users", Key=keys, ConsistentRead=True)
            return got.get("Item")

        def wrote(version: str, view: Any) -> None:
            if view is not None:
                self.written_states[(identity, version)] = dict(view)

        reconciler = Reconciler(self._writer())
        self.others.append(Repair(reconciler, keys, read_source, "Users", wrote, backfill=backfill))

    @precondition(lambda self: bool(self.others))
    @rule(pick=st.integers(min_value=0, max_value=2))
    def step_an_operator(self, pick: int) -> None:
        actor = self.others[pick % len(self.others)]
        self._did(actor.step())
        if actor.done:
            self.others.remove(actor)

    def _writer(self, *, guarded: bool = False) -> ReplicaWriter:
        return ReplicaWriter(self.actor_client, self.tables, guarded_puts=guarded, bucket=1)

    def _did(self, did: Did | None) -> None:
        self.last_did = did

    # -- validators ------------------------------------------------------------------------------

    def _tombstones(self) -> dict[str, str]:
        rows = scan_all(self.replica, STATE)
        prefix = schema.TOMBSTONE_PREFIX
        return {
            r[schema.STATE_PARTITION_KEY]["S"][len(prefix) :]: r[schema.VERSION_ATTRIBUTE]["S"]
            for r in rows
            if r[schema.STATE_PARTITION_KEY]["S"].startswith(prefix)
        }

    def _allowed(self, did: Did | None, tombstone: str) -> bool:
        """Whether the step just taken may open an exposure (docs/design.md, "Exposure")."""
        if self.strict_exposure:
            return False
        if did is None:  # whole handler deliveries: only a crash can stop a REMOVE half-way
            return self.crashed
        if did.kind in {Kind.TOMBSTONE, Kind.LATE}:
            return True
        # a put whose tombstone read was overtaken by another actor's newer delete
        return did.kind is Kind.PUT and (did.seen_tombstone or "") < tombstone

    @invariant()
    def replica_items_are_source_states_and_nothing_deleted_is_exposed(self) -> None:
        states = {int(r["dynamodb"]["SequenceNumber"]): r["dynamodb"].get("NewImage") for r in self.stream}
        tombstones = self._tombstones()
        exposed_now: set[str] = set()
        replica = by_key(scan_all(self.replica, "Users"))
        for identity, seen in self.highest_version.items():
            if identity not in replica:
                # a key that disappeared was deleted by a delete at least as new as what was visible
                gone = tombstones.get(key_hash(json_key(identity)), "")
                assert gone >= seen, "a replica item was deleted by an older delete"
        for identity, item in replica.items():
            version = item[schema.VERSION_ATTRIBUTE]["S"]
            content = without_metadata(item)
            written = self.written_states.get((identity, version), _NOT_FOUND)
            image = states.get(int(version))
            from_stream = image is not None and content == item_from_event(image, "NewImage")
            assert from_stream or written == content, "a replica item is not a state the source had"
            tombstone = tombstones.get(key_hash({k: item[k] for k in ("user_id", "timestamp")}))
            if tombstone is not None and tombstone > version:
                exposed_now.add(identity)
                if identity not in self.exposed:
                    opened_by = self.last_did.kind if self.last_did else "a delivery"
                    allowed = self._allowed(self.last_did, tombstone)
                    assert allowed, f"a deleted item was exposed by {opened_by}"
                    self.exposures_seen.add(opened_by)
                continue
            if identity not in self.exposed:
                assert version >= self.highest_version.get(identity, ""), "a replica item went backwards"
            self.highest_version[identity] = max(version, self.highest_version.get(identity, ""))
        self.exposed = exposed_now
        self.last_did, self.crashed = None, False

    def teardown(self) -> None:
        try:
            self.late.clear()
            while self.live is not None or self.others:
                if self.live is not None:
                    self.step_the_invocation()
                else:
                    self.step_an_operator(0)
            self._pull()
            while self.checkpoint < len(self.stream):
                self.checkpoint += self._deliver(self.stream[self.checkpoint : self.checkpoint + 10])
            source = by_key(scan_all(self.source, "Users"))
            replica = {k: without_metadata(v) for k, v in by_key(scan_all(self.replica, "Users")).items()}
            assert replica == source, "after draining the stream the replica must equal the source"
        finally:
            self.mock.stop()
