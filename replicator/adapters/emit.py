"""What an invocation tells the world: EMF metric documents and one log line per failed record.

Both are built purely from a :class:`~replicator.core.report.BatchReport`; the handler writes them.
One EMF document per dimension set, whatever the batch size. Log lines carry the error class, the
sequence number and the key's hash, never an attribute value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from replicator.core.report import BatchReport
from telemetry import catalogue as c
from telemetry.emf import document_lines
from telemetry.logs import log_line


def metric_documents(
    report: BatchReport, *, namespace: str, table: str, timestamp: dt.datetime | None = None
) -> list[str]:
    """EMF lines: totals by table, then one document per operation, skip reason and error class."""
    lines = document_lines(
        namespace,
        {c.TABLE: table},
        [
            (c.RECORDS_REPLICATED, float(sum(report.replicated.values()))),
            (c.RECORDS_SKIPPED, float(sum(report.skipped.values()))),
            (c.RECORDS_FAILED, float(sum(report.failed.values()))),
            (c.REPLICA_WRITES, float(report.writes_issued)),
            (c.REPLICA_THROTTLES, float(report.throttled_attempts)),
            (c.REPLICA_WRITE_UNITS, report.write_units),
            (c.REPLICA_READ_UNITS, report.read_units),
            *([(c.REPLICATION_LAG, report.lag_ms)] if report.lag_ms else []),
        ],
        timestamp=timestamp,
    )
    breakdowns = (
        (c.RECORDS_REPLICATED, c.OPERATION, report.replicated),
        (c.RECORDS_SKIPPED, c.SKIP_REASON, report.skipped),
        (c.RECORDS_FAILED, c.ERROR_CLASS, report.failed),
    )
    for spec, dimension, counts in breakdowns:
        for value, count in sorted(counts.items()):
            if count:
                dims = {c.TABLE: table, dimension: str(value)}
                lines += document_lines(namespace, dims, [(spec, float(count))], timestamp=timestamp)
    return lines


def failure_log_lines(report: BatchReport, *, at: dt.datetime, request_id: str | None) -> Iterator[str]:
    """One JSON log line per failed record: error class, sequence number, key hash."""
    for failure in report.failures:
        yield log_line(
            "ERROR",
            "record not replicated",
            at=at,
            request_id=request_id,
            errorClass=failure.error_class,
            reason=failure.message,
            sequenceNumber=failure.sequence_number,
            keyHash=failure.key_hash,
        )
