"""What the export check read and what it cost, as plain values; and the job's differences, parsed. Pure.

Export pricing: $0.10 per GB of the table's size at the export time, which DynamoDB reports as
``billedSizeBytes`` (https://aws.amazon.com/dynamodb/pricing/on-demand/, "Export to Amazon S3").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from replicator.core.compare import Difference

EXPORT_USD_PER_GB = 0.10
GB = 1024**3


def iso_utc(epoch: float) -> str:
    """An export time as the operator reads it, and as DynamoDB prints it: UTC to the second."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class ExportSide:
    """One export as the report names it: where, as of when, how big."""

    location: str
    arn: str | None
    export_time: float
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
    def margin_seconds(self) -> float:
        return self.replica.export_time - self.source.export_time


def parse_differences(lines: Iterable[str]) -> Iterator[Difference]:
    """The job's differences (keys in DynamoDB JSON, binary as base64) as the check's candidates."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            difference = Difference.from_event(row["kind"], row["keys"])
        except (KeyError, TypeError, ValueError) as exc:
            # The line holds a key: name the line and the problem, never the key itself.
            raise ValueError(
                f"difference line {number} is not a job output row ({type(exc).__name__})"
            ) from None
        yield difference
