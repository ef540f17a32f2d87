"""The usage functions' IAM grants are exactly the requests they make: recorded, not assumed."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import boto3

from cdk.constructs.usage_metrics import MERGE_ACTIONS, SUMMARY_ACTIONS
from metrics.merge import Merge
from metrics.settings import MergeSettings, UsageTable
from metrics.store import UsageStore
from tests.support.mapping import drive
from tests.support.usage import SETTINGS, UsageModel
from tests.support.usage_shards import Environments, close_windows, sharded


def _recorded(region: str, table: str) -> tuple[UsageStore, dict[str, set[str]]]:
    """A store on its own client, and every DynamoDB action that client calls, by table."""
    client = boto3.client("dynamodb", region_name=region)
    used: dict[str, set[str]] = defaultdict(set)

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        tables = params["RequestItems"] if model.name == "BatchGetItem" else [params["TableName"]]
        for name in tables:
            used[name].add(f"dynamodb:{model.name}")

    client.meta.events.register("before-parameter-build.dynamodb", record)
    return UsageStore(client, table), used


def test_every_request_of_the_consumer_and_the_merge_is_granted_and_every_grant_is_used(
    regions, usage_store, make_mapping, clock
):
    region, table = regions.config.source_region, usage_store.table_name
    consumer_store, consumer_used = _recorded(region, table)
    merge_store, merge_used = _recorded(region, table)
    environments = Environments(consumer_store)
    mapping = sharded(make_mapping, environments)
    merge = Merge(MergeSettings(SETTINGS, UsageTable(table), "Users"), merge_store, io.StringIO())
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    # WHEN two rounds of four shards' windows are stored, each merged once its windows are over
    for round_ in range(2):
        for i in range(8):
            model.put({"user_id": f"user-{i}", "timestamp": round_, "platform": "ios"})
        drive(mapping, 10)
        close_windows(mapping, clock)
        merge.run(clock() + 120)
    # THEN each function called exactly what its role grants
    assert len(environments.runs) == 4
    assert consumer_used == {table: set(SUMMARY_ACTIONS)}
    assert merge_used == {table: set(MERGE_ACTIONS)}
