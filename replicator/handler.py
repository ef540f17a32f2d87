"""Lambda entry point of the replicator: ``replicator.handler.handler(event, context)``.

Configuration is read once per container from the environment (see ``replicator.settings``); the
replica client is built on the first invocation and reused. ``create_handler`` builds the same
callable from explicit settings, for the local runtime and the tests.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from ddbstream import parse_event, source_table
from replicator.adapters.apply import Executor, apply_plan
from replicator.adapters.clients import CONNECT_TIMEOUT, READ_TIMEOUT, replica_client
from replicator.adapters.emit import failure_log_lines, metric_documents
from replicator.adapters.retry import Deadline, LambdaContextLike
from replicator.adapters.writer import ReplicaTables, ReplicaWriter
from replicator.core.errors import MalformedInput
from replicator.core.plan import plan_batch
from replicator.core.policy import Policy
from replicator.core.report import summarise
from replicator.settings import Settings, from_environ

Handler = Callable[[Mapping[str, Any], Any], dict[str, Any]]

UNKNOWN_TABLE = "unknown"
# Time kept back from the Lambda timeout to emit metrics and return the partial batch response.
REPORTING_RESERVE_SECONDS = 1.0


@dataclass
class Replicator:
    """One configured replicator: settings, the replica writer, and where output goes."""

    settings: Settings
    writer: ReplicaWriter
    executor: Executor
    out: IO[str] = field(default_factory=lambda: sys.stdout)

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        deadline = Deadline.from_context(_context(context), reserve=REPORTING_RESERVE_SECONDS)
        batch = parse_event(event)
        plan = plan_batch(batch, Policy(self.settings.ttl_policy, self.settings.exclude_attributes))
        table = source_table(event, batch) or UNKNOWN_TABLE
        applied = apply_plan(plan, self.writer, source_table=table, deadline=deadline, executor=self.executor)
        report = summarise(plan, applied)
        request_id = getattr(context, "aws_request_id", None)
        lines = [
            *failure_log_lines(report, request_id=request_id),
            *metric_documents(
                report,
                namespace=self.settings.metrics_namespace,
                table=table,
                timestamp=dt.datetime.now(dt.UTC),
            ),
        ]
        self.out.write("".join(f"{line}\n" for line in lines))
        self.out.flush()
        if report.unidentified_failures:
            # A record without a sequence number cannot be named in batchItemFailures. Failing the
            # invocation makes Lambda retry and bisect until that record is alone; the other
            # records were written and are idempotent when delivered again.
            raise MalformedInput(
                f"{report.unidentified_failures} record(s) without a SequenceNumber in the batch"
            )
        return {"batchItemFailures": report.batch_item_failures()}


def _context(context: Any) -> LambdaContextLike | None:
    return context if hasattr(context, "get_remaining_time_in_millis") else None


def build_replicator(settings: Settings, *, out: IO[str] | None = None) -> Replicator:
    """Wire a replicator from settings: the replica client, writer and executor."""
    client = replica_client(
        region=settings.replica_region,
        endpoint_url=settings.endpoint_url,
        role_arn=settings.role_arn,
        max_connections=settings.max_concurrent_writes + 4,
    )
    writer = ReplicaWriter(
        client,
        ReplicaTables(
            settings.replica_table, settings.state_table, settings.tombstone_retention_hours * 3600
        ),
    )
    executor = Executor(
        max_workers=settings.max_concurrent_writes, min_attempt_seconds=CONNECT_TIMEOUT + READ_TIMEOUT
    )
    return Replicator(settings, writer, executor, out or sys.stdout)


def create_handler(environ: Mapping[str, str]) -> Handler:
    """A Lambda-style handler configured from ``environ``; a bad variable raises ConfigurationError."""
    return build_replicator(from_environ(environ)).handle


_handler: Handler | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    global _handler  # noqa: PLW0603 - one replicator per container, built on first use
    if _handler is None:
        _handler = create_handler(os.environ)
    return _handler(event, context)
