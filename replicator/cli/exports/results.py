"""What the export check read and what it cost, as plain values; and the job's output, parsed. Pure.

Export pricing: $0.10 per GB of the table's size at the export time, which DynamoDB reports as
``billedSizeBytes`` (https://aws.amazon.com/dynamodb/pricing/on-demand/, "Export to Amazon S3").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ddbstream.attributes import item_from_event
from replicator.core.compare import Difference, Kind

EXPORT_USD_PER_GB = 0.10
GB = 1024**3


@dataclass(frozen=True, slots=True)
class ExportSide:
    """One export as the report names it: where, as of when, how big."""

    location: str
    arn: str | None
    export_time: float | None
    items: int
    billed_bytes: int
    bytes_read: int


@dataclass(frozen=True, slots=True)
class ExportFacts:
    source: ExportSide
    replica: ExportSide
    engine: str
    job_seconds: float

    @property
    def cost_usd(self) -> float:
        return (self.source.billed_bytes + self.replica.billed_bytes) / GB * EXPORT_USD_PER_GB

    @property
    def margin_seconds(self) -> float | None:
        if self.source.export_time is None or self.replica.export_time is None:
            return None
        return self.replica.export_time - self.source.export_time


@dataclass(frozen=True, slots=True)
class JobSummary:
    """The Spark job's counts (its ``summary/`` output)."""

    source_items: int
    replica_items: int
    matched: int
    expired: int
    differences: dict[str, int]
    source_bytes: int
    replica_bytes: int


def parse_job_summary(lines: Iterable[str]) -> JobSummary:
    rows = [json.loads(line) for line in lines if line.strip()]
    if len(rows) != 1:
        raise ValueError(f"the job's summary holds {len(rows)} rows, not 1")
    row = rows[0]
    try:
        return JobSummary(
            source_items=int(row["source_items"]),
            replica_items=int(row["replica_items"]),
            matched=int(row["matched"]),
            expired=int(row["expired"]),
            differences={str(k): int(v) for k, v in dict(row["differences"]).items()},
            source_bytes=int(row["source_bytes"]),
            replica_bytes=int(row["replica_bytes"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the job's summary lacks or mangles {exc}") from None


def parse_differences(lines: Iterable[str]) -> Iterator[Difference]:
    """The job's differences (keys in DynamoDB JSON, binary as base64) as the check's candidates."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            kind = Kind(row["kind"])
            keys = item_from_event(row["keys"], "a difference's key")
        except (KeyError, TypeError, ValueError) as exc:
            # The line holds a key: name the line and the problem, never the key itself.
            raise ValueError(
                f"difference line {number} is not a job output row ({type(exc).__name__})"
            ) from None
        yield Difference(kind, keys)
