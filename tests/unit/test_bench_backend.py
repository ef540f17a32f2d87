"""The benchmarks' latency backend answers every call itself: what a replicator reads from it."""

from __future__ import annotations

import pytest

from bench.backend import LatencyBackend
from replicator.adapters.clients import replica_client


@pytest.mark.parametrize(
    "before_signing", [pytest.param(False, id="before-send"), pytest.param(True, id="before-signing")]
)
def test_a_batch_get_is_answered_with_nothing_found_and_nothing_left(before_signing, monkeypatch):
    # GIVEN a replica client answered by the backend (never sent: the unit tier has no network)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "bench")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "bench")
    client = replica_client(
        region="eu-west-1", endpoint_url="http://127.0.0.1:9", role_arn=None, max_connections=2
    )
    backend = LatencyBackend(client, 0.0, before_signing=before_signing)
    # WHEN the replicator's tombstone read and a conditional put are sent
    keys = [{"pk": {"S": "tombstone#a"}}, {"pk": {"S": "tombstone#b"}}]
    found = client.batch_get_item(
        RequestItems={"Users-replication-state": {"Keys": keys, "ConsistentRead": True}}
    )
    client.put_item(
        TableName="Users",
        Item={"user_id": {"S": "a"}},
        ConditionExpression="attribute_not_exists(#v)",
        ExpressionAttributeNames={"#v": "repl:version"},
    )
    # THEN the read found no item and left no key unprocessed, and both calls were counted
    assert found.get("Responses", {}) == {} and found.get("UnprocessedKeys", {}) == {}
    assert found["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert backend.calls == {"BatchGetItem": 1, "PutItem": 1}
