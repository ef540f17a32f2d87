"""A replicator wired to the moto regions of a test, with views of both tables."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from localrun.invoke.lambda_context import LambdaContext, function_arn
from replicator.adapters.apply import Executor
from replicator.core import schema
from replicator.handler import Replicator, build_replicator
from replicator.settings import from_environ
from tests.support.emf import EmfDocument, parse_output, totals

BASE_ENV = {"REPLICA_TABLE_NAME": "Users", "REPLICA_REGION": "eu-west-1"}

DELIVERY_SECONDS = float(os.environ.get("TEST_DELIVERY_SECONDS", "60"))
"""The invocation time a test delivery gets. `make mutate` shortens it (faultlab/mutation.py): a
mutant that turns a failed condition into a retryable error would otherwise retry each delivery
for a full minute, and the run would end by timeouts instead of verdicts."""


def scan_all(client: Any, table: str, *, consistent: bool = True) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": consistent}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def by_key(
    items: list[dict[str, Any]], key_names: tuple[str, ...] = ("user_id", "timestamp")
) -> dict[str, Any]:
    return {json.dumps([item[k] for k in key_names], sort_keys=True, default=str): item for item in items}


def without_metadata(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != schema.VERSION_ATTRIBUTE}


@dataclass
class Harness:
    """``fast_retries``: no minimum attempt time and no real sleeping, so a test can make writes
    fail for good within a few milliseconds of invocation time."""

    regions: Any
    env: dict[str, str] = field(default_factory=lambda: dict(BASE_ENV))
    fast_retries: bool = False
    replicator: Replicator = field(init=False)
    output: io.StringIO = field(init=False)

    def __post_init__(self) -> None:
        self.output = io.StringIO()
        self.replicator = build_replicator(from_environ(self.env), out=self.output)
        if self.fast_retries:
            self.replicator.executor = Executor(max_workers=8, min_attempt_seconds=0.0, sleep=lambda _: None)

    def deliver(self, event: Mapping[str, Any], *, timeout: float = DELIVERY_SECONDS) -> dict[str, Any]:
        context = LambdaContext(
            function_name="test-replicator",
            memory_limit_in_mb=1024,
            invoked_function_arn=function_arn("test-replicator", "us-east-1"),
            deadline=time.monotonic() + min(timeout, DELIVERY_SECONDS),
        )
        return self.replicator.handle(event, context)

    def failed_sequences(self, response: Mapping[str, Any]) -> list[str]:
        return [item["itemIdentifier"] for item in response["batchItemFailures"]]

    def source(self) -> dict[str, Any]:
        return by_key(scan_all(self.regions.source, "Users"))

    def replica(self) -> dict[str, Any]:
        """The replica as its readers see it: a plain Scan, metadata removed."""
        return {k: without_metadata(v) for k, v in by_key(scan_all(self.regions.replica, "Users")).items()}

    def replica_versions(self) -> dict[str, str]:
        return {
            k: v[schema.VERSION_ATTRIBUTE]["S"]
            for k, v in by_key(scan_all(self.regions.replica, "Users")).items()
        }

    def tombstones(self) -> list[dict[str, Any]]:
        items = scan_all(self.regions.replica, "Users-replication-state")
        return [i for i in items if i[schema.STATE_PARTITION_KEY]["S"].startswith(schema.TOMBSTONE_PREFIX)]

    def emf_documents(self) -> list[EmfDocument]:
        """Every EMF document written so far, each validated against the EMF specification."""
        return parse_output(self.output.getvalue())

    def log_lines(self) -> list[str]:
        return self.output.getvalue().splitlines()

    def metric_classes(self) -> set[str]:
        """The ErrorClass values of the RecordsFailed series written so far."""
        return {
            s.dimensions["ErrorClass"]
            for d in self.emf_documents()
            for s in d.series
            if s.metric == "RecordsFailed" and "ErrorClass" in s.dimensions
        }

    def metric_total(self, name: str, **dimensions: str) -> float:
        """Sum of a metric's values in the series dimensioned by exactly TableName + ``dimensions``."""
        wanted = (name, tuple(sorted({"TableName": "Users", **dimensions}.items())))
        return sum(totals(self.emf_documents()).get(wanted, []))
