"""The replicator's IAM grants are exactly the requests it makes: recorded, not assumed."""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

from replicator.permissions import REPLICA_TABLE_ACTIONS, STATE_TABLE_ACTIONS
from tests.support.replication import Harness

TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Delete": "DeleteItem",
    "Update": "UpdateItem",
    "ConditionCheck": "ConditionCheckItem",
}


def test_every_request_the_replicator_makes_is_granted_and_every_grant_is_used(regions):
    harness = Harness(regions)
    used: dict[str, set[str]] = defaultdict(set)

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                used[body["TableName"]].add(f"dynamodb:{TRANSACT_ACTIONS[kind]}")
        elif model.name == "BatchGetItem":
            for table in params["RequestItems"]:
                used[table].add("dynamodb:BatchGetItem")
        else:
            used[params["TableName"]].add(f"dynamodb:{model.name}")

    harness.replicator.writer.client.meta.events.register("before-parameter-build.dynamodb", record)
    key = {"user_id": {"S": "u"}, "timestamp": {"N": "1"}}
    # every path of the writer: insert, modify over an item, modify of a missing item, delete, replays
    regions.source.put_item(TableName="Users", Item={**key, "v": {"N": "1"}})
    regions.source.put_item(TableName="Users", Item={**key, "v": {"N": "2"}})
    regions.source.delete_item(TableName="Users", Key=key)
    regions.source.put_item(TableName="Users", Item={**key, "v": {"N": "3"}})
    regions.source.put_item(TableName="Users", Item={**key, "v": {"N": "4"}})
    records = regions.tap.read()
    for record_ in records:
        harness.deliver({"Records": [record_]})
    harness.deliver({"Records": copy.deepcopy(records)})
    regions.replica.delete_item(TableName="Users", Key=key)
    final = harness.deliver({"Records": [records[-1]]})  # MODIFY of an item the replica no longer has

    assert final == {"batchItemFailures": []}
    assert harness.replica() == harness.source()
    assert used == {"Users": set(REPLICA_TABLE_ACTIONS), "Users-replication-state": set(STATE_TABLE_ACTIONS)}
