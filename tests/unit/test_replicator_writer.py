"""The replica adapter's reading of DynamoDB's answers: capacity, cancelled transactions, the mark.

Answers moto never gives (a transaction cancelled by a throttle or a conflict on one of its items,
a BatchGetItem's list of per-table capacities) come from botocore's own Stubber, which checks each
request against the service model and fails on any request it was not told to expect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from replicator.adapters.writer import Meter, ReplicaWriter
from replicator.core import protocol, schema, version
from replicator.core.errors import ItemTooLarge, ReplicaRejected, ReplicatorError, Throttled, WriteConflict
from replicator.core.outcomes import Capacity, Outcome
from replicator.core.protocol import ReplicaTables, Reply
from tests.support.plans import one_write as write

TABLES = ReplicaTables("Users", "Users-state", 72 * 3600)
MARK = version.encode(500)


@pytest.fixture
def stubbed() -> Iterator[tuple[ReplicaWriter, Stubber]]:
    client = boto3.client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield ReplicaWriter(client, TABLES, bucket=3, clock=lambda: 1_000_000.0), stubber
        stubber.assert_no_pending_responses()


def capacity(units: float) -> dict[str, Any]:
    return {"ConsumedCapacity": {"TableName": "Users", "CapacityUnits": units}}


# -- capacity -------------------------------------------------------------------------------------


def test_the_meter_adds_reads_and_writes_apart_from_every_shape_of_consumed_capacity():
    # GIVEN a BatchGetItem's per-table list (one entry without units), a PutItem's single entry,
    # and a response without any
    meter = Meter()
    meter.add(
        "BatchGetItem", {"ConsumedCapacity": [{"TableName": "a", "CapacityUnits": 1.5}, {"TableName": "b"}]}
    )
    meter.add("GetItem", capacity(0.5))
    meter.add("PutItem", capacity(2.0))
    meter.add("TransactWriteItems", {"ConsumedCapacity": [{"TableName": "Users", "CapacityUnits": 4.0}]})
    meter.add("DeleteItem", {})
    # THEN reads and writes are counted apart, and a missing figure counts nothing
    assert meter.total == Capacity(write_units=6.0, read_units=2.0)


# -- cancelled transactions -------------------------------------------------------------------------


def cancelled(stubber: Stubber, reasons: list[dict[str, Any]]) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        http_status_code=400,
        modeled_fields={"CancellationReasons": reasons},
    )


def guarded_call() -> protocol.Call:
    return next(protocol.guarded_put(TABLES, write("INSERT")))


@pytest.mark.parametrize(
    ("reasons", "error", "match"),
    [
        (
            [{"Code": "None"}, {"Code": "ThrottlingError", "Message": "Throughput exceeds"}],
            Throttled,
            "ThrottlingError",
        ),
        ([{}, {"Code": "TransactionConflict", "Message": "conflict"}], WriteConflict, "TransactionConflict"),
        (
            [
                {"Code": "ValidationError", "Message": "Item size has exceeded the maximum allowed size"},
                {"Code": "None"},
            ],
            ItemTooLarge,
            "exceeds 400 KB",
        ),
        ([{"Code": "None"}, {"Code": "None"}], ReplicaRejected, r"\(TransactionCanceledException\)"),
    ],
)
def test_a_transaction_cancelled_by_anything_but_a_condition_raises_that_items_error(
    stubbed, reasons, error, match
):
    # GIVEN a guarded put whose transaction DynamoDB cancels for a reason other than a condition
    writer, stubber = stubbed
    cancelled(stubber, reasons)
    # WHEN it is sent THEN the failing item's own code decides the error (retryable or not)
    with pytest.raises(error, match=match):
        writer.send(guarded_call())


def test_a_transaction_cancelled_by_a_condition_is_an_answer_carrying_the_reasons(stubbed):
    writer, stubber = stubbed
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]
    cancelled(stubber, reasons)
    reply = writer.send(guarded_call())
    assert reply.condition_failed
    assert [r.get("Code") for r in reply.body["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]


def test_a_failed_condition_on_a_single_write_is_an_answer_and_any_other_error_is_raised(stubbed):
    writer, stubber = stubbed
    call = next(protocol.put(TABLES, write("INSERT"), tombstone=None))
    stubber.add_client_error(
        "put_item",
        service_error_code="ConditionalCheckFailedException",
        http_status_code=400,
        modeled_fields={"Item": {schema.VERSION_ATTRIBUTE: {"S": MARK}}},
    )
    stubber.add_client_error(
        "put_item", service_error_code="ProvisionedThroughputExceededException", http_status_code=400
    )
    reply = writer.send(call)
    assert reply.condition_failed and reply.body["Item"] == {schema.VERSION_ATTRIBUTE: {"S": MARK}}
    with pytest.raises(Throttled, match="ProvisionedThroughputExceededException"):
        writer.send(call)


# -- the guarded writer (redrive) ---------------------------------------------------------------------


def counting(calls: list[str]) -> Callable[[Callable[[], Reply]], Reply]:
    def attempt(send: Callable[[], Reply]) -> Reply:
        calls.append("attempt")
        return send()

    return attempt


def test_a_guarded_writer_puts_in_one_metered_transaction_through_the_callers_attempt(stubbed):
    # GIVEN a writer for a host racing the live replicator
    writer, stubber = stubbed
    guarded = ReplicaWriter(writer.client, TABLES, guarded_puts=True, bucket=3)
    stubber.add_response(
        "transact_write_items", {"ConsumedCapacity": [{"TableName": "Users", "CapacityUnits": 4.0}]}
    )
    meter, attempts = Meter(), list[str]()
    # WHEN it applies a put
    outcome = guarded.apply(write("INSERT"), meter=meter, attempt=counting(attempts))
    # THEN the put was one transaction (the Stubber refuses any other request), run by the
    # caller's attempt, and its capacity counted
    assert outcome is Outcome.APPLIED
    assert attempts == ["attempt"]
    assert meter.total == Capacity(write_units=4.0)


def test_a_guarded_writer_deletes_as_the_live_replicator_does(stubbed):
    writer, stubber = stubbed
    guarded = ReplicaWriter(writer.client, TABLES, guarded_puts=True, bucket=3, clock=writer.now)
    stubber.add_response("put_item", capacity(1.0), {"TableName": "Users-state", **_any_put()})
    stubber.add_response("delete_item", capacity(1.0))
    assert guarded.apply(write("REMOVE")) is Outcome.APPLIED


def _any_put() -> dict[str, Any]:
    return {
        "Item": ANY,
        "ConditionExpression": protocol.TOMBSTONE_IF_NEWER,
        "ExpressionAttributeNames": ANY,
        "ExpressionAttributeValues": ANY,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        "ReturnConsumedCapacity": "TOTAL",
    }


# -- the high-water mark --------------------------------------------------------------------------


def test_the_mark_is_written_once_per_version_and_its_write_is_metered(stubbed):
    writer, stubber = stubbed
    stubber.add_response("update_item", capacity(1.0))
    meter = Meter()
    # WHEN the same mark is advanced twice, then a lower one
    writer.advance_watermark("Users", MARK, meter)
    writer.advance_watermark("Users", MARK, meter)
    writer.advance_watermark("Users", version.encode(499), meter)
    # THEN only the first sent an UpdateItem (the Stubber holds exactly one answer), and it was counted
    assert meter.total == Capacity(write_units=1.0)


def test_an_error_the_writer_cannot_classify_is_still_a_replicator_error(stubbed):
    writer, stubber = stubbed
    stubber.add_client_error("update_item", service_error_code="SomethingNew", http_status_code=400)
    with pytest.raises(ReplicatorError, match="SomethingNew"):
        writer.advance_watermark("Users", MARK)
