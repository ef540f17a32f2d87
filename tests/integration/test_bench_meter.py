"""The cost benchmark's request meter on real requests to moto (bench/meter.py).

The meter reads stored items through its own client, so the sizes it prices are moto's, and it
hooks botocore's events, so requests whose condition fails are priced too.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bench.capacity import Units
from bench.meter import RequestMeter, TableReader
from tests.support.replication import Harness

STATE = "Users-replication-state"


def item(pk: str, size: int) -> dict[str, Any]:
    """A state-table item of exactly ``size`` bytes by DynamoDB's rule ("pk" + value + "pad" + value)."""
    return {"pk": {"S": pk}, "pad": {"S": "x" * (size - len("pk") - len(pk) - len("pad"))}}


@pytest.fixture
def meter(regions, config) -> RequestMeter:
    return RequestMeter(TableReader(boto3.client("dynamodb", region_name=config.replica_region)))


def test_each_request_is_priced_by_the_size_of_what_it_touches(regions, meter):
    # GIVEN a client whose requests are metered
    client = regions.replica
    meter.attach(client)
    # WHEN it writes, overwrites, fails a condition, grows, deletes, reads and transacts
    client.put_item(TableName=STATE, Item=item("a", 500))  # 1
    client.put_item(TableName=STATE, Item=item("a", 1536))  # 2: the larger of old and new
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        client.put_item(  # 2: a failed condition is billed on the existing item
            TableName=STATE, Item=item("a", 100), ConditionExpression="attribute_not_exists(pk)"
        )
    client.update_item(  # 3: the item after the update is 2.5 KB
        TableName=STATE,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET #p = :p",
        ExpressionAttributeNames={"#p": "pad"},
        ExpressionAttributeValues={":p": item("a", 2560)["pad"]},
    )
    client.delete_item(TableName=STATE, Key={"pk": {"S": "a"}})  # 3: the deleted item's size
    client.delete_item(TableName=STATE, Key={"pk": {"S": "absent"}})  # 1: the minimum
    client.put_item(TableName=STATE, Item=item("big", 5120))  # 5
    client.put_item(TableName=STATE, Item=item("small", 100))  # 1
    client.batch_get_item(  # 2 + 1 + 1 read units: each item rounded up on its own, a missing one 1
        RequestItems={
            STATE: {"Keys": [{"pk": {"S": k}} for k in ("big", "small", "missing")], "ConsistentRead": True}
        }
    )
    client.transact_write_items(  # 2 x 1 for the Put, 2 x 1 for the ConditionCheck
        TransactItems=[
            {"Put": {"TableName": STATE, "Item": item("t", 500)}},
            {
                "ConditionCheck": {
                    "TableName": STATE,
                    "Key": {"pk": {"S": "tomb"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )
    # THEN every request is priced by DynamoDB's rules
    reading = meter.reading()
    assert reading.units_by_operation == {
        "PutItem": Units(write=1 + 2 + 2 + 5 + 1),
        "UpdateItem": Units(write=3),
        "DeleteItem": Units(write=3 + 1),
        "BatchGetItem": Units(read=4),
        "TransactWriteItems": Units(write=4),
    }
    assert reading.conditions_failed["PutItem"] == 1
    assert reading.requests["PutItem"] == 5
    assert reading.http_bytes > 0


def test_the_replicator_pays_a_write_per_insert_a_read_per_tombstone_and_two_writes_per_remove(
    regions, meter
):
    # GIVEN the replicator with its requests metered
    harness = Harness(regions)
    meter.attach(harness.replicator.writer.client)
    for user in ("u1", "u2", "u3"):
        regions.source.put_item(TableName="Users", Item={"user_id": {"S": user}, "timestamp": {"N": "1"}})
    # WHEN it replicates three INSERTs in one batch
    assert harness.deliver(regions.tap.read_event())["batchItemFailures"] == []
    inserts = meter.reading()
    # THEN one plain put each, one consistent read per tombstone, one mark write for the batch
    assert inserts.units_by_operation == {
        "PutItem": Units(write=3),
        "BatchGetItem": Units(read=3),
        "UpdateItem": Units(write=1),
    }
    # WHEN one of them is removed
    meter.reset()
    regions.source.delete_item(TableName="Users", Key={"user_id": {"S": "u2"}, "timestamp": {"N": "1"}})
    assert harness.deliver(regions.tap.read_event())["batchItemFailures"] == []
    # THEN a tombstone put and a conditional delete, plus the mark: no transaction
    assert meter.reading().units_by_operation == {
        "PutItem": Units(write=1),
        "DeleteItem": Units(write=1),
        "UpdateItem": Units(write=1),
    }
