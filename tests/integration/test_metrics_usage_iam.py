"""The usage functions' IAM grants are exactly the requests they make: recorded, not assumed."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import boto3

from cdk.constructs.usage_metrics import MERGE_ACTIONS, SUMMARY_ACTIONS
from metrics.merge import Merge
from metrics.periods import MINUTE, Slot
from metrics.settings import MergeSettings, UsageTable
from metrics.store import UsageStore
from tests.support.consumer import Run
from tests.support.shard_windows import by_shard, close_window, run_window
from tests.support.usage import SETTINGS, UsageModel


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


def test_every_request_of_the_consumer_and_the_merge_is_granted_and_every_grant_is_used(regions, usage_store):
    region, table = regions.config.source_region, usage_store.table_name
    consumer_store, consumer_used = _recorded(region, table)
    merge_store, merge_used = _recorded(region, table)
    run = Run(SETTINGS, store=consumer_store)
    merge = Merge(MergeSettings(SETTINGS, UsageTable(table), "Users"), merge_store, io.StringIO())
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    # WHEN two minutes of four shards' windows are stored, each merged once it is over
    for minute in ("10:07", "10:08"):
        for i in range(8):
            model.put({"user_id": f"user-{i}", "timestamp": i, "platform": "ios"})
        start = f"2026-12-01T{minute}:00Z"
        for shard, records in by_shard(model.read_event()["Records"]).items():
            close_window(run, shard, start, run_window(run, shard, start, records))
        slot = Slot.parse(MINUTE, start[:16])
        merge.run(slot.end_epoch + 60, through=slot)
    # THEN each function called exactly what its role grants
    assert consumer_used == {table: set(SUMMARY_ACTIONS)}
    assert merge_used == {table: set(MERGE_ACTIONS)}
