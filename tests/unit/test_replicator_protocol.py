"""The write protocol's conversations, driven by scripted answers: which request comes next, with
which condition, and what each answer means. Pure: no AWS, no fakes, only the protocol's own
Call and Reply values (the requests against moto are in tests/integration/test_replicator_protocol.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from replicator.core import protocol, schema, version
from replicator.core.errors import ConfigurationError, Throttled
from replicator.core.outcomes import Outcome
from replicator.core.protocol import UNKNOWN, Call, ReplicaTables, Reply, Steps
from tests.support.events import key
from tests.support.plans import one_write as write

TABLES = ReplicaTables("Users", "Users-state", 72 * 3600)
V = version.encode(20)
OLDER, NEWER = version.encode(10), version.encode(30)
NOW = 1_000_000.0


def ok(**body: Any) -> Reply:
    return Reply(body)


def failed(stored: str | None) -> Reply:
    item = None if stored is None else {schema.VERSION_ATTRIBUTE: {"S": stored}, **key("ann")}
    return Reply({"Item": item} if item else {}, condition_failed=True)


def converse(steps: Steps[Any], replies: Sequence[Reply]) -> tuple[list[Call], Any]:
    """Run a conversation on scripted replies; the calls it made and what it returned."""
    calls: list[Call] = []
    answers = iter(replies)
    try:
        calls.append(next(steps))
        while True:
            calls.append(steps.send(next(answers)))
    except StopIteration as done:
        return calls, done.value


def condition(call: Call) -> str:
    return str(call.params["ConditionExpression"])


# -- INSERT ------------------------------------------------------------------------------------


def test_an_insert_with_no_tombstone_is_one_put_if_absent_or_older():
    calls, outcome = converse(protocol.put(TABLES, write("INSERT"), tombstone=None), [ok()])
    (put,) = calls
    assert (put.operation, put.params["TableName"]) == ("PutItem", "Users")
    assert condition(put) == protocol.PUT_IF_NEWER
    assert put.params["Item"][schema.VERSION_ATTRIBUTE] == {"S": V}
    assert put.params["ExpressionAttributeValues"] == {":v": {"S": V}}
    assert put.params["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert put.params["ReturnConsumedCapacity"] == "TOTAL"
    assert outcome is Outcome.APPLIED


@pytest.mark.parametrize("tombstone", [V, NEWER])
def test_an_insert_at_or_below_its_tombstone_sends_nothing(tombstone):
    calls, outcome = converse(protocol.put(TABLES, write("INSERT"), tombstone=tombstone), [])
    assert calls == [] and outcome is Outcome.DELETED_LATER


def test_an_insert_above_an_older_tombstone_is_written():
    calls, outcome = converse(protocol.put(TABLES, write("INSERT"), tombstone=OLDER), [ok()])
    assert [c.operation for c in calls] == ["PutItem"] and outcome is Outcome.APPLIED


def test_an_insert_whose_tombstone_is_unknown_reads_it_consistently_first():
    calls, outcome = converse(
        protocol.put(TABLES, write("INSERT"), tombstone=UNKNOWN),
        [ok(Item={schema.VERSION_ATTRIBUTE: {"S": NEWER}})],
    )
    (read,) = calls
    assert read.operation == "GetItem" and read.params["ConsistentRead"] is True
    assert read.params["Key"] == TABLES.tombstone_key(write("INSERT").key_hash)
    assert outcome is Outcome.DELETED_LATER


@pytest.mark.parametrize(
    ("stored", "expected"), [(V, Outcome.ALREADY_APPLIED), (NEWER, Outcome.STALE), (None, Outcome.STALE)]
)
def test_a_refused_insert_says_why_from_the_stored_version(stored, expected):
    _, outcome = converse(protocol.put(TABLES, write("INSERT"), tombstone=None), [failed(stored)])
    assert outcome is expected


# -- MODIFY ------------------------------------------------------------------------------------


def test_a_modify_over_an_existing_older_item_is_one_put_with_no_read():
    calls, outcome = converse(protocol.put(TABLES, write("MODIFY"), tombstone=UNKNOWN), [ok()])
    (put,) = calls
    assert condition(put) == protocol.PUT_OVER_OLDER and outcome is Outcome.APPLIED


@pytest.mark.parametrize(("stored", "expected"), [(V, Outcome.ALREADY_APPLIED), (NEWER, Outcome.STALE)])
def test_a_modify_refused_by_a_versioned_item_stops_there(stored, expected):
    calls, outcome = converse(protocol.put(TABLES, write("MODIFY"), tombstone=UNKNOWN), [failed(stored)])
    assert len(calls) == 1 and outcome is expected


def test_a_modify_of_an_absent_item_reads_the_tombstone_then_puts_if_absent():
    calls, outcome = converse(
        protocol.put(TABLES, write("MODIFY"), tombstone=UNKNOWN), [failed(None), ok(), ok()]
    )
    assert [c.operation for c in calls] == ["PutItem", "GetItem", "PutItem"]
    assert condition(calls[2]) == protocol.PUT_IF_NEWER
    assert outcome is Outcome.APPLIED


# -- REMOVE ------------------------------------------------------------------------------------


def test_a_remove_writes_the_tombstone_then_deletes_an_existing_older_item():
    remove = write("REMOVE")
    calls, outcome = converse(protocol.delete(TABLES, remove, now=NOW), [ok(), ok()])
    tombstone, delete = calls
    assert (tombstone.operation, tombstone.params["TableName"]) == ("PutItem", "Users-state")
    assert tombstone.params["Item"] == {
        schema.STATE_PARTITION_KEY: {"S": schema.tombstone_pk(remove.key_hash)},
        schema.VERSION_ATTRIBUTE: {"S": V},
        schema.STATE_TTL_ATTRIBUTE: {"N": str(int(NOW) + 72 * 3600)},
    }
    assert condition(tombstone) == protocol.TOMBSTONE_IF_NEWER
    assert (delete.operation, delete.params["TableName"], delete.params["Key"]) == (
        "DeleteItem",
        "Users",
        key("ann"),
    )
    assert condition(delete) == protocol.DELETE_IF_OLDER
    assert delete.params["ExpressionAttributeNames"]["#k"] in key("ann")
    assert outcome is Outcome.APPLIED


@pytest.mark.parametrize(
    ("tombstone", "item", "expected"),
    [
        (ok(), ok(), Outcome.APPLIED),
        (ok(), failed(None), Outcome.APPLIED),  # the item was never in the replica
        (ok(), failed(NEWER), Outcome.APPLIED),  # an older delete recorded; the newer item stays
        (failed(V), ok(), Outcome.ALREADY_APPLIED),  # a retry after a crash between the two
        (failed(V), failed(None), Outcome.ALREADY_APPLIED),
        (failed(NEWER), failed(None), Outcome.STALE),
        (failed(NEWER), ok(), Outcome.STALE),  # an older item removed under a newer delete
    ],
)
def test_a_remove_is_counted_by_its_tombstone_and_always_sends_its_delete(tombstone, item, expected):
    calls, outcome = converse(protocol.delete(TABLES, write("REMOVE"), now=NOW), [tombstone, item])
    assert [c.operation for c in calls] == ["PutItem", "DeleteItem"]
    assert outcome is expected


# -- redrive's guarded put -----------------------------------------------------------------------


def test_a_guarded_put_checks_the_tombstone_in_the_same_transaction():
    calls, outcome = converse(protocol.guarded_put(TABLES, write("INSERT")), [ok()])
    (transaction,) = calls
    put, check = transaction.params["TransactItems"]
    assert put["Put"]["TableName"] == "Users" and check["ConditionCheck"]["TableName"] == "Users-state"
    assert (
        put["Put"]["ConditionExpression"]
        == check["ConditionCheck"]["ConditionExpression"]
        == protocol.PUT_IF_NEWER
    )
    assert outcome is Outcome.APPLIED


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        (
            [
                {"Code": "ConditionalCheckFailed", "Item": {schema.VERSION_ATTRIBUTE: {"S": V}}},
                {"Code": "None"},
            ],
            Outcome.ALREADY_APPLIED,
        ),
        (
            [
                {"Code": "ConditionalCheckFailed", "Item": {schema.VERSION_ATTRIBUTE: {"S": NEWER}}},
                {"Code": "None"},
            ],
            Outcome.STALE,
        ),
        ([{"Code": "None"}, {"Code": "ConditionalCheckFailed"}], Outcome.DELETED_LATER),
    ],
)
def test_a_cancelled_guarded_put_says_which_condition_failed(reasons, expected):
    _, outcome = converse(
        protocol.guarded_put(TABLES, write("INSERT")),
        [Reply({"CancellationReasons": reasons}, condition_failed=True)],
    )
    assert outcome is expected


# -- the high-water mark, tombstone reads ---------------------------------------------------------


def test_a_bucket_of_the_mark_is_raised_only_upwards():
    calls, now = converse(protocol.raise_watermark(TABLES, "Users", 3, V), [ok()])
    (update,) = calls
    assert update.params["Key"] == {schema.STATE_PARTITION_KEY: {"S": "watermark#Users#3"}}
    assert condition(update) == protocol.MARK_IF_HIGHER and now == V
    _, found = converse(protocol.raise_watermark(TABLES, "Users", 3, V), [failed(NEWER)])
    assert found == NEWER


@pytest.mark.parametrize("bucket", [-1, schema.WATERMARK_BUCKETS])
def test_a_bucket_outside_the_mark_is_refused(bucket):
    with pytest.raises(ValueError, match="is not one of"):
        converse(protocol.raise_watermark(TABLES, "Users", bucket, V), [])


def test_the_mark_is_the_highest_over_every_bucket_and_the_pre_bucket_item():
    def answer(versions: dict[str, str]) -> Reply:
        rows = [
            {schema.STATE_PARTITION_KEY: {"S": pk}, schema.VERSION_ATTRIBUTE: {"S": v}}
            for pk, v in versions.items()
        ]
        return ok(Responses={"Users-state": rows})

    calls, mark = converse(
        protocol.read_watermark(TABLES, "Users"),
        [answer({"watermark#Users#0": OLDER, "watermark#Users": NEWER, "watermark#Users#31": V})],
    )
    (read,) = calls
    keys = read.params["RequestItems"]["Users-state"]["Keys"]
    assert len(keys) == schema.WATERMARK_BUCKETS + 1
    assert read.params["RequestItems"]["Users-state"]["ConsistentRead"] is True
    assert mark == NEWER
    assert converse(protocol.read_watermark(TABLES, "Users"), [ok()])[1] is None


def test_keys_left_unprocessed_by_a_batch_read_are_a_throttle_to_retry():
    leftover = Reply({"UnprocessedKeys": {"Users-state": {"Keys": [TABLES.tombstone_key("x")]}}})
    with pytest.raises(Throttled, match="unprocessed"):
        protocol.batch_versions("Users-state", leftover)


def test_tombstones_are_read_a_hundred_keys_per_request_each_key_once():
    hashes = [f"h{i}" for i in range(250)] + ["h0"]
    calls = protocol.tombstone_reads(TABLES, hashes)
    sizes = [len(c.params["RequestItems"]["Users-state"]["Keys"]) for c in calls]
    assert sizes == [100, 100, 50]
    found = {schema.tombstone_pk("h1"): V, "watermark#Users#0": OLDER}
    assert protocol.tombstones_by_hash(found) == {"h1": V}


@pytest.mark.parametrize("count", [0, 101])
def test_a_batch_read_outside_one_to_a_hundred_keys_is_refused(count):
    with pytest.raises(ValueError, match="reads 1 to 100 keys"):
        protocol.batch_get("Users-state", [TABLES.tombstone_key(str(i)) for i in range(count)])


LOWEST, HIGHEST = schema.MIN_TOMBSTONE_RETENTION_HOURS * 3600, schema.MAX_TOMBSTONE_RETENTION_HOURS * 3600


@pytest.mark.parametrize(
    ("seconds", "says"),
    [(LOWEST - 1, "got 24.9997 hours"), (HIGHEST + 1, "got 8760 hours"), (24 * 3600, "got 24 hours")],
)
def test_tables_refuse_a_retention_outside_its_bounds_saying_what_they_got(seconds, says):
    with pytest.raises(ConfigurationError, match=rf"between 25 and 8760 hours .* {says}$"):
        ReplicaTables("Users", "Users-state", seconds)


@pytest.mark.parametrize("seconds", [LOWEST, HIGHEST])
def test_tables_accept_a_retention_on_either_bound_and_a_single_bucket(seconds):
    tables = ReplicaTables("Users", "Users-state", seconds, watermark_buckets=1)
    assert tables.tombstone_retention_seconds == seconds
    assert len(tables.watermark_keys("Users")) == 2  # the one bucket and the pre-bucket item


def test_tables_refuse_a_mark_without_buckets():
    with pytest.raises(ConfigurationError, match="at least one bucket"):
        ReplicaTables("Users", "Users-state", LOWEST, watermark_buckets=0)


def every_call() -> list[Call]:
    """One of each request the protocol can make, each conversation taken down its longest path."""
    modify_of_absent = converse(
        protocol.put(TABLES, write("MODIFY"), tombstone=UNKNOWN), [failed(None), ok()]
    )
    return [
        *modify_of_absent[0],
        *converse(protocol.delete(TABLES, write("REMOVE"), now=NOW), [ok(), ok()])[0],
        *converse(protocol.guarded_put(TABLES, write("INSERT")), [ok()])[0],
        *converse(protocol.raise_watermark(TABLES, "Users", 0, V), [ok()])[0],
        *converse(protocol.read_watermark(TABLES, "Users"), [ok()])[0],
        *protocol.tombstone_reads(TABLES, ["h1"]),
    ]


def test_every_request_reports_its_capacity_and_every_read_is_strongly_consistent():
    # GIVEN every kind of request the protocol sends
    calls = every_call()
    assert {c.operation for c in calls} == {
        "PutItem",
        "GetItem",
        "DeleteItem",
        "TransactWriteItems",
        "UpdateItem",
        "BatchGetItem",
    }
    # THEN each asks for the capacity it consumed (the replicator's cost metrics add it up), and
    # each read is strongly consistent: an eventually consistent read can miss a tombstone written
    # a moment ago, and a put after such a read resurrects the deleted item
    for call in calls:
        assert call.params["ReturnConsumedCapacity"] == "TOTAL", call.operation
    reads = [c.params for c in calls if c.operation == "GetItem"] + [
        request
        for c in calls
        if c.operation == "BatchGetItem"
        for request in c.params["RequestItems"].values()
    ]
    assert len(reads) == 3 and all(read["ConsistentRead"] is True for read in reads)


def test_a_tombstone_expires_its_retention_after_it_is_written():
    # GIVEN a REMOVE replicated at NOW
    (tombstone_put, _), _ = converse(protocol.delete(TABLES, write("REMOVE"), now=NOW + 0.9), [ok(), ok()])
    item = tombstone_put.params["Item"]
    # THEN its tombstone outlives the stream's 24 h by the configured retention, from now
    assert item[schema.STATE_TTL_ATTRIBUTE] == {"N": str(int(NOW) + 72 * 3600)}
    assert item[schema.VERSION_ATTRIBUTE] == {"S": V}
