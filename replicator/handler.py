"""Lambda entry point of the replicator: ``replicator.handler.handler(event, context)``.

Configuration is read once per container from the environment (see ``replicator.settings``); the
replica client is built on the first invocation and reused. ``create_handler`` builds the same
callable from another environment mapping, for the local runtime and the tests.

A host that runs the replicator itself builds one with :func:`build_replicator` (its keyword-only
options say what a host may change) and calls :meth:`Replicator.handle` (the Lambda contract:
output written, response returned) or :meth:`Replicator.process` (the typed
:class:`~replicator.core.report.BatchReport`, nothing written).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ddbstream import parse_event, source_table
from replicator.adapters.apply import Executor, apply_plan
from replicator.adapters.clients import CONNECT_TIMEOUT, READ_TIMEOUT, replica_client
from replicator.adapters.emit import failure_log_lines, metric_documents
from replicator.adapters.retry import Deadline, LambdaContextLike
from replicator.adapters.writer import ReplicaWriter
from replicator.core.errors import MalformedInput
from replicator.core.plan import plan_batch
from replicator.core.policy import Policy
from replicator.core.protocol import ReplicaTables
from replicator.core.report import BatchReport, summarise
from replicator.settings import Settings, from_environ

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Handler = Callable[[Mapping[str, Any], Any], dict[str, Any]]

UNKNOWN_TABLE = "unknown"
# Time kept back from the Lambda timeout to emit metrics and return the partial batch response.
REPORTING_RESERVE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Processed:
    """One batch processed: the typed report of every record, and the source table it came from."""

    report: BatchReport
    table: str

    def response(self) -> dict[str, Any]:
        """The Lambda response: the partial batch response naming every failed record.

        Raises :class:`MalformedInput` when a failed record has no sequence number: it cannot be
        named in ``batchItemFailures``, so the invocation must fail and Lambda retries and bisects
        the batch until that record is alone; the other records were written and are idempotent
        when delivered again.
        """
        if self.report.unidentified_failures:
            raise MalformedInput(
                f"{self.report.unidentified_failures} record(s) without a SequenceNumber in the batch"
            )
        return {"batchItemFailures": self.report.batch_item_failures()}


@dataclass
class Replicator:
    """One configured replicator: settings, the replica writer, and where output goes."""

    settings: Settings
    writer: ReplicaWriter
    executor: Executor
    out: IO[str] = field(default_factory=lambda: sys.stdout)

    def process(self, event: Mapping[str, Any], context: Any) -> Processed:
        """Apply one Lambda event's records to the replica and return what happened, typed.

        Writes nothing to :attr:`out`: callers that need the outcome (the CLI's redrive) read the
        report instead of log lines. ``context`` gives the deadline (``None``: no deadline).
        """
        deadline = Deadline.from_context(_context(context), reserve=REPORTING_RESERVE_SECONDS)
        batch = parse_event(event)
        plan = plan_batch(batch, Policy(self.settings.ttl_policy, self.settings.exclude_attributes))
        table = source_table(event, batch) or UNKNOWN_TABLE
        applied = apply_plan(plan, self.writer, source_table=table, deadline=deadline, executor=self.executor)
        return Processed(summarise(plan, applied), table)

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """The Lambda contract: process the batch, write its log lines and EMF documents, respond."""
        processed = self.process(event, context)
        now = dt.datetime.now(dt.UTC)
        lines = [
            *failure_log_lines(processed.report, at=now, request_id=getattr(context, "aws_request_id", None)),
            *metric_documents(
                processed.report,
                namespace=self.settings.metrics_namespace,
                table=processed.table,
                timestamp=now,
            ),
        ]
        self.out.write("".join(f"{line}\n" for line in lines))
        self.out.flush()
        return processed.response()


def _context(context: Any) -> LambdaContextLike | None:
    return context if hasattr(context, "get_remaining_time_in_millis") else None


def build_replicator(
    settings: Settings,
    *,
    out: IO[str] | None = None,
    instrument: Callable[[DynamoDBClient], object] | None = None,
    attempt_seconds: float | None = None,
) -> Replicator:
    """Wire a replicator from settings: the replica client, writer and executor.

    The keyword-only options are for hosts that run the replicator themselves (the local runtime,
    the fault lab, tests and benchmarks); the Lambda entry point uses none of them.

    * ``out``: where log lines and EMF documents are written (default: standard output).
    * ``instrument``: called once with the replica's boto3 client before its first request: the
      place to register botocore event hooks (fault injection, added latency, request counting).
    * ``attempt_seconds``: the time one write attempt may need. A write is started (or retried)
      only while this much remains before the invocation's deadline. Default: the client's connect
      plus read timeouts, what an attempt can take against AWS; a host whose endpoint answers in
      milliseconds may lower it so that short function timeouts still leave room for retries.
    """
    client = replica_client(
        region=settings.replica_region,
        endpoint_url=settings.endpoint_url,
        role_arn=settings.role_arn,
        max_connections=settings.max_concurrent_writes + 4,
    )
    if instrument is not None:
        instrument(client)
    writer = ReplicaWriter(
        client,
        ReplicaTables(
            settings.replica_table, settings.state_table, settings.tombstone_retention_hours * 3600
        ),
    )
    executor = Executor(
        max_workers=settings.max_concurrent_writes,
        min_attempt_seconds=CONNECT_TIMEOUT + READ_TIMEOUT if attempt_seconds is None else attempt_seconds,
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
