"""The workload (seeded, with every kind of change) and the TTL emulation, on moto."""

from __future__ import annotations

import threading

from ddbstream import EventName, parse_event
from ddbstream.lambda_event import lambda_event
from localrun.aws.ttl import TtlLedger, TtlSweeper
from localrun.demo.workload import Mix, Op, Workload, WorkloadModel, WorkloadSettings


def test_the_same_seed_gives_the_same_writes(config):
    first = WorkloadModel(config, WorkloadSettings(seed=3))
    second = WorkloadModel(config, WorkloadSettings(seed=3))
    other = WorkloadModel(config, WorkloadSettings(seed=4))
    now = 1_700_000_000.0
    ours = [first.next_write(now + i) for i in range(200)]
    assert ours == [second.next_write(now + i) for i in range(200)]
    assert ours != [other.next_write(now + i) for i in range(200)]


def test_the_mix_has_every_operation_and_updates_touch_tracked_and_untracked_attributes(config):
    model = WorkloadModel(config, WorkloadSettings(users=20, seed=1))
    writes = [model.next_write(1_700_000_000.0 + i / 10) for i in range(1000)]
    assert {w.op for w in writes} == set(Op)
    expressions = " ".join(w.update["UpdateExpression"] for w in writes if w.update)
    for attribute in (*config.tracked_attributes, "last_seen", "device_model"):
        assert attribute in expressions
    assert "REMOVE" in expressions
    platforms = {w.item[config.segment_attribute]["S"] for w in writes if w.item}
    assert set(config.segment_values) <= platforms


def test_the_workload_writes_inserts_updates_and_deletes_to_the_source(regions):
    settings = WorkloadSettings(
        users=5, writes_per_second=1000, mix=Mix(insert=0.5, update=0.3, delete=0.2, ttl_insert=0)
    )
    workload = Workload(regions.source, regions.config, settings)
    for _ in range(50):  # by count, not by time: a loaded machine writes fewer per second
        workload.run(0.1, threading.Event())
        if workload.total >= 60:
            break
    names = [r.event_name.value for r in parse_event(regions.tap.read_event()).records]
    assert workload.total == len(names) > 0
    assert {"INSERT", "MODIFY", "REMOVE"} <= set(names)


def test_expired_items_are_deleted_and_their_removes_look_like_dynamodbs_ttl_process(regions):
    # GIVEN one expired item, one still alive, and one the user deletes
    cfg = regions.config
    table = cfg.table_name

    def put(user: str, expires_at: int) -> None:
        item = {"user_id": {"S": user}, "timestamp": {"N": "1"}, cfg.ttl_attribute: {"N": str(expires_at)}}
        regions.source.put_item(TableName=table, Item=item)

    put("expired", 1_000)
    put("alive", 4_000_000_000)
    put("deleted", 1_000)
    regions.source.delete_item(TableName=table, Key={"user_id": {"S": "deleted"}, "timestamp": {"N": "1"}})
    ledger = TtlLedger(cfg.ttl_attribute)
    sweeper = TtlSweeper(
        regions.source,
        table=table,
        ttl_attribute=cfg.ttl_attribute,
        key_names=["user_id", "timestamp"],
        ledger=ledger,
    )
    # WHEN the sweeper runs
    assert sweeper.sweep(now=2_000_000_000) == 1
    # THEN only the expired item's REMOVE carries the TTL identity
    shaped = lambda_event(
        [ledger.annotate(raw) for raw in regions.tap.read_raw()], stream_arn=regions.stream_arn
    )
    removes = [r for r in parse_event(shaped).records if r.event_name is EventName.REMOVE]
    by_user = {r.keys["user_id"]["S"]: r.is_ttl_delete for r in removes}
    assert by_user == {"deleted": False, "expired": True}
    remaining = regions.source.scan(TableName=table)["Items"]
    assert [item["user_id"]["S"] for item in remaining] == ["alive"]
