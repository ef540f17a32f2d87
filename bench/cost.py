"""Cost per replicated change: request units of the real replicator, priced by DynamoDB's rules.

For each mix (``bench.histories``), a generated history of the ``Users`` table is written to a
source table in moto (in process, two regions, tables made by ``localrun.aws.tables``), read back
from moto's own stream, and delivered on first delivery, in batches of 100, to one replica per
design, each behind its own :class:`~bench.meter.RequestMeter`:

* **ours**: the replicator as deployed (``build_replicator``);
* **before**: the protocol before this change (``bench.before``, a faithful re-implementation run
  through the same ``apply_plan``; measured on the same records, not estimated);
* **Global Tables**: 1 replicated write unit per KB of each change, from the history's item sizes.

The writers run one request at a time (``MAX_CONCURRENT_WRITES=1``): moto's in-process backend is
not thread-safe (its transactions copy and restore whole tables), and the price of a request does
not depend on the order of writes to different keys. Each replica is compared with the source at
the end, so a figure cannot come from a run that replicated wrongly.

Dollars need the Lambda's duration too: each design handles the first batches of each history
again against ``bench.backend.LatencyBackend`` at a 75 ms round trip with the deployment's
concurrency, and that measured time, at the deployment's memory, is what is billed.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
# botocore >= 1.44 routes stream calls to an account-specific host the in-process mock ignores.
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")

import boto3
from moto import mock_aws

from bench.backend import LatencyBackend
from bench.before import BeforeWriter
from bench.capacity import Units, write_units
from bench.histories import (
    APPEND_MOSTLY,
    DELETE_HEAVY,
    EXPIRING,
    MODIFY_ONLY,
    Change,
    History,
    Mix,
    Step,
    rows_to_seed,
)
from bench.meter import RequestMeter, TableReader
from bench.prices import PRICES, PerChange, lambda_gb_seconds_per_change, per_million
from bench.stream import StreamReader
from ddbstream import key_id, primary_key
from ddbstream.lambda_event import lambda_event
from deployconfig.config import DeploymentConfig
from deployconfig.config import load as load_config
from localrun.aws.tables import create_replica_tables, create_source_table
from localrun.aws.ttl import TTL_IDENTITY
from localrun.invoke.lambda_context import LambdaContext, function_arn
from replicator.core import version
from replicator.core.policy import TtlPolicy
from replicator.core.schema import VERSION_ATTRIBUTE
from replicator.handler import Replicator, build_replicator
from replicator.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_SIZE = 100
LATENCY_SECONDS = 0.075
UNUSED_ENDPOINT = "http://127.0.0.1:9"  # never contacted: the latency backend answers first
TARGETS = {APPEND_MOSTLY.name: 1.25, MODIFY_ONLY.name: 1.05}
"""Issue 12: write-unit equivalents per change at most this, on first delivery in batches of 100."""


@dataclass(frozen=True, slots=True)
class Design:
    key: str
    label: str
    before: bool = False
    ttl_policy: TtlPolicy = TtlPolicy.REPLICATE


OURS = Design("ours", "this replicator")
BEFORE = Design("before", "the protocol before this change", before=True)
OURS_EXPIRE = Design("expire", "this replicator, TTL_DELETES=expire", ttl_policy=TtlPolicy.EXPIRE)


@dataclass
class _Target:
    design: Design
    table: str
    replicator: Replicator
    meter: RequestMeter


def _settings(design: Design, table: str, *, region: str, endpoint: str | None, writes: int) -> Settings:
    return Settings(
        replica_table=table,
        replica_region=region,
        state_table=f"{table}-replication-state",
        endpoint_url=endpoint,
        ttl_policy=design.ttl_policy,
        max_concurrent_writes=writes,
    )


def _with_design(replicator: Replicator, design: Design) -> Replicator:
    if not design.before:
        return replicator
    writer = BeforeWriter(replicator.writer.client, replicator.writer.tables)
    return dataclasses.replace(replicator, writer=writer)


def _context(cfg: DeploymentConfig) -> LambdaContext:
    return LambdaContext(
        function_name=cfg.replicator_function_name,
        memory_limit_in_mb=cfg.replicator_memory_mb,
        invoked_function_arn=function_arn(cfg.replicator_function_name, cfg.source_region),
        deadline=time.monotonic() + cfg.replicator_timeout_seconds,
    )


class _Rig:
    """One history's run in moto: the source with its stream, one metered replica per design."""

    def __init__(self, cfg: DeploymentConfig, designs: Sequence[Design]) -> None:
        self.cfg = cfg
        self.source = boto3.client("dynamodb", region_name=cfg.source_region)
        self.stream_arn = create_source_table(self.source, cfg)
        self.stream = StreamReader(
            boto3.client("dynamodbstreams", region_name=cfg.source_region), self.stream_arn
        )
        self.replica = boto3.client("dynamodb", region_name=cfg.replica_region)
        reader = TableReader(self.replica)
        self.targets = []
        self.versions: dict[str, str] = {}
        """The version of each key's last change: what a replica of the source must hold."""
        for design in designs:
            table = f"{cfg.replica_table_name}-{design.key}"
            create_replica_tables(self.replica, cfg, name=table)
            meter = RequestMeter(reader, remember_writes=True)  # only its replicator writes its tables
            settings = _settings(design, table, region=cfg.replica_region, endpoint=None, writes=1)
            replicator = build_replicator(settings, out=io.StringIO(), instrument=meter.attach)
            self.targets.append(_Target(design, table, _with_design(replicator, design), meter))

    def write(self, steps: Sequence[Step]) -> dict[str, Any]:
        """Apply ``steps`` to the source table; returns their stream records as one Lambda event."""
        table = self.cfg.table_name
        for step in steps:
            if step.item is None:
                self.source.delete_item(TableName=table, Key=step.key)
            else:
                self.source.put_item(TableName=table, Item=step.item)
        raw = self.stream.read()
        names = [record["eventName"] for record in raw]
        if names != [step.change.event_name for step in steps]:
            raise RuntimeError("the stream does not hold one record per change, in order")
        # moto has no TTL process: mark the deletes that stand for expiries as DynamoDB's TTL does.
        raw = [
            {**record, "userIdentity": dict(TTL_IDENTITY)} if step.change is Change.EXPIRE else record
            for record, step in zip(raw, steps, strict=True)
        ]
        for record in raw:
            body = record["dynamodb"]
            self.versions[key_id(body["Keys"])] = version.encode(int(body["SequenceNumber"]))
        return lambda_event(raw, stream_arn=self.stream_arn)

    def deliver(self, event: Mapping[str, Any]) -> None:
        for target in self.targets:
            response = target.replicator.handle(event, _context(self.cfg))
            if response["batchItemFailures"]:
                raise RuntimeError(f"{target.design.label}: a batch failed on first delivery")

    def verify(self, expired: set[str]) -> None:
        """Every replica holds the source's keys (under ``expire``, the expired ones as well), each at
        the version of its last change. Keys and versions only: moto serialises whole items slowly,
        and the content of each write is the convergence tests' business."""
        source = set(_versions(self.source, self.cfg.table_name, self._keys()))
        for target in self.targets:
            replica = _versions(self.replica, target.table, self._keys())
            kept = expired if target.design.ttl_policy is TtlPolicy.EXPIRE else set()
            wrong = {k for k in source if replica.get(k) != self.versions[k]}
            if wrong or set(replica) != source | kept:
                raise RuntimeError(f"{target.design.label}: the replica differs from the source")

    def _keys(self) -> tuple[str, ...]:
        cfg = self.cfg
        return (cfg.partition_key.name, *((cfg.sort_key.name,) if cfg.sort_key else ()))


def _versions(client: DynamoDBClient, table: str, key_names: Sequence[str]) -> dict[str, str | None]:
    """Every key of a table with its ``repl:version`` (None in the source)."""
    names = {f"#a{i}": name for i, name in enumerate((*key_names, VERSION_ATTRIBUTE))}
    items: dict[str, str | None] = {}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "ConsistentRead": True,
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
    }
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            items[key_id(primary_key(item, key_names))] = item.get(VERSION_ATTRIBUTE, {}).get("S")
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _chunks(steps: Sequence[Step], size: int) -> Iterable[Sequence[Step]]:
    return (steps[i : i + size] for i in range(0, len(steps), size))


@dataclass(frozen=True, slots=True)
class _Measured:
    changes: int
    readings: dict[str, Any]
    global_tables_units: float
    item_bytes: float
    events: list[dict[str, Any]]


def replicate_history(
    mix: Mix, designs: Sequence[Design], *, batches: int, batch_size: int, seed: int
) -> _Measured:
    """Replicate one history through every design in moto; the meters count only the history."""
    cfg = load_config()
    with mock_aws():
        rig = _Rig(cfg, designs)
        history = History(mix, seed=seed, ttl_attribute=cfg.ttl_attribute or "expires_at")
        for chunk in _chunks(history.seed_rows(rows_to_seed(mix, batches, batch_size)), batch_size):
            rig.deliver(rig.write(chunk))
        for target in rig.targets:
            target.meter.reset()
        steps: list[Step] = []
        events: list[dict[str, Any]] = []
        for _ in range(batches):
            batch = history.batch(batch_size)
            events.append(rig.write(batch))
            rig.deliver(events[-1])
            steps.extend(batch)
        rig.verify({key_id(s.key) for s in steps if s.change is Change.EXPIRE})
        readings = {t.design.key: t.meter.reading() for t in rig.targets}
    return _Measured(
        changes=len(steps),
        readings=readings,
        global_tables_units=sum(write_units(s.size) for s in steps) / len(steps),
        item_bytes=sum(s.size for s in steps) / len(steps),
        events=events,
    )


def seconds_per_batch(design: Design, events: Sequence[Mapping[str, Any]], cfg: DeploymentConfig) -> float:
    """The time one invocation takes on these events (best of them), every request answered after 75 ms."""
    writes = Settings(replica_table="t", replica_region="r", state_table="s").max_concurrent_writes
    settings = _settings(
        design, cfg.replica_table_name, region=cfg.replica_region, endpoint=UNUSED_ENDPOINT, writes=writes
    )
    replicator = _with_design(
        build_replicator(
            settings, out=io.StringIO(), instrument=lambda client: LatencyBackend(client, LATENCY_SECONDS)
        ),
        design,
    )
    replicator.handle({"Records": list(events[0]["Records"][:2])}, _context(cfg))  # warm the pool
    times = []
    for event in events:
        started = time.perf_counter()
        replicator.handle(event, _context(cfg))
        times.append(time.perf_counter() - started)
    return min(times)  # the least disturbed by other work on a shared machine


def _figures(
    units: Units, changes: int, http_bytes: int, *, seconds: float, batch: int, memory_mb: int
) -> dict[str, Any]:
    per = units.per(changes)
    change = PerChange(
        write_units=per.write,
        read_units=per.read,
        transfer_bytes=http_bytes / changes,
        lambda_gb_seconds=lambda_gb_seconds_per_change(memory_mb, seconds, batch),
        lambda_invocations=1 / batch,
    )
    dollars = per_million(change)
    return {
        "wru": round(per.write, 3),
        "rru": round(per.read, 3),
        "weq": round(per.equivalents, 3),
        "http_bytes": round(http_bytes / changes),
        "seconds_per_batch": round(seconds, 3),
        "dollars": {
            "requests": round(dollars.requests, 3),
            "transfer": round(dollars.transfer, 3),
            "compute": round(dollars.compute, 3),
            "total": round(dollars.total, 3),
        },
    }


def _global_tables(rwru: float) -> dict[str, Any]:
    dollars = per_million(PerChange(write_units=0.0, replicated_write_units=rwru, transfer_bytes=1024))
    return {
        "rwru": round(rwru, 3),
        "dollars": {
            "requests": round(dollars.requests, 3),
            "transfer": round(dollars.transfer, 3),
            "compute": 0.0,
            "total": round(dollars.total, 3),
        },
    }


def measure(
    mix: Mix, designs: Sequence[Design], *, batches: int, batch_size: int, timed: int, seed: int
) -> dict[str, Any]:
    """Every figure of one mix: units per change, bytes, Lambda time, dollars, by design."""
    cfg = load_config()
    measured = replicate_history(mix, designs, batches=batches, batch_size=batch_size, seed=seed)
    figures: dict[str, Any] = {}
    for design in designs:
        reading = measured.readings[design.key]
        seconds = seconds_per_batch(design, measured.events[:timed], cfg)
        figures[design.key] = {
            "label": design.label,
            "conditions_failed": sum(reading.conditions_failed.values()),
            "requests_per_change": round(sum(reading.requests.values()) / measured.changes, 3),
            **_figures(
                reading.units,
                measured.changes,
                reading.http_bytes,
                seconds=seconds,
                batch=batch_size,
                memory_mb=cfg.replicator_memory_mb,
            ),
        }
    return {
        "mix": mix.name,
        "composition": mix.describe(),
        "changes": measured.changes,
        "batches": batches,
        "item_bytes": round(measured.item_bytes),
        "target_weq": TARGETS.get(mix.name),
        "designs": figures,
        "global_tables": _global_tables(measured.global_tables_units),
    }


def run(quick: bool) -> dict[str, Any]:
    cfg = load_config()
    batches, batch_size, timed = (1, 20, 1) if quick else (5, BATCH_SIZE, 3)
    sizes = {"batches": batches, "batch_size": batch_size, "timed": timed}
    mixes = [
        measure(mix, [OURS, BEFORE], **sizes, seed=12 + i)
        for i, mix in enumerate((APPEND_MOSTLY, MODIFY_ONLY, DELETE_HEAVY))
    ]
    ttl = measure(EXPIRING, [OURS, OURS_EXPIRE], **sizes, seed=99)
    return {
        "batch_size": batch_size,
        "latency_ms": LATENCY_SECONDS * 1000,
        "memory_mb": cfg.replicator_memory_mb,
        "prices": dataclasses.asdict(PRICES),
        "mixes": mixes,
        "ttl": ttl,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one batch per mix (a smoke test)")
    args = parser.parse_args()
    print(json.dumps(run(args.quick), indent=2))


if __name__ == "__main__":
    main()
