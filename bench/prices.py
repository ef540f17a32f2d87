"""What a million replicated changes cost, in dollars, from a dated price table. Pure.

The cost benchmark measures request units, HTTP bytes and invocation time per change; this module
turns them into dollars for our replicator and for Global Tables, with one price table that says
where its numbers come from and when they were read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

MILLION: Final = 1_000_000
GB: Final = 2**30
"""Transfer is billed per GB; bytes are converted at 2^30 per GB."""


@dataclass(frozen=True, slots=True)
class PriceTable:
    """On-demand prices, dollars."""

    as_of: str
    source: str
    write_unit_per_million: float
    replicated_write_unit_per_million: float
    read_unit_per_million: float
    transfer_per_gb: float
    lambda_gb_second: float
    lambda_requests_per_million: float


PRICES: Final = PriceTable(
    as_of="2026-12-01",
    source=(
        "AWS price pages, us-east-1, on-demand: https://aws.amazon.com/dynamodb/pricing/on-demand/ "
        "(after the November 2024 cut), https://aws.amazon.com/lambda/pricing/ (arm64), inter-region "
        "data transfer out; as recorded in the project's notes on that date"
    ),
    write_unit_per_million=0.625,
    replicated_write_unit_per_million=0.625,
    read_unit_per_million=0.125,
    transfer_per_gb=0.02,
    lambda_gb_second=0.0000133334,
    lambda_requests_per_million=0.20,
)


@dataclass(frozen=True, slots=True)
class PerChange:
    """What one replicated change takes, on average."""

    write_units: float
    read_units: float = 0.0
    replicated_write_units: float = 0.0
    transfer_bytes: float = 0.0
    lambda_gb_seconds: float = 0.0
    lambda_invocations: float = 0.0


@dataclass(frozen=True, slots=True)
class Dollars:
    """Dollars per million changes, by what they pay for."""

    requests: float
    transfer: float
    compute: float

    @property
    def total(self) -> float:
        return self.requests + self.transfer + self.compute


def per_million(change: PerChange, prices: PriceTable = PRICES) -> Dollars:
    """The bill for a million changes like ``change``."""
    requests = (
        change.write_units * prices.write_unit_per_million
        + change.replicated_write_units * prices.replicated_write_unit_per_million
        + change.read_units * prices.read_unit_per_million
    )
    transfer = change.transfer_bytes * MILLION / GB * prices.transfer_per_gb
    compute = MILLION * (
        change.lambda_gb_seconds * prices.lambda_gb_second
        + change.lambda_invocations * prices.lambda_requests_per_million / MILLION
    )
    return Dollars(requests, transfer, compute)


def lambda_gb_seconds_per_change(memory_mb: int, seconds_per_batch: float, batch_size: int) -> float:
    """Lambda bills memory x duration (rounded up to the millisecond) for each invocation."""
    billed = math.ceil(seconds_per_batch * 1000) / 1000
    return memory_mb / 1024 * billed / batch_size
