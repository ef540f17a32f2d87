"""An event source mapping's parameters, with Lambda's names, defaults and allowed ranges."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from deployconfig.config import DeploymentConfig

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload limit: a batch stops growing before it."""

BASE_POLL_INTERVAL = 0.25
"""Lambda polls each DynamoDB stream shard at a base rate of four times a second."""


class EsmConfigError(ValueError):
    """A mapping parameter is outside what CreateEventSourceMapping accepts."""


class StartingPosition(enum.StrEnum):
    TRIM_HORIZON = "TRIM_HORIZON"
    LATEST = "LATEST"


def _check(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise EsmConfigError(f"{name} must be between {low} and {high}; got {value}")


@dataclass(frozen=True, slots=True)
class MappingSettings:
    """``-1`` means infinite for retries and record age, as in the Lambda API."""

    batch_size: int = 100
    batching_window_seconds: float = 0
    max_retry_attempts: int = -1
    max_record_age_seconds: int = -1
    bisect_on_error: bool = False
    report_batch_item_failures: bool = False
    tumbling_window_seconds: int = 0
    starting_position: StartingPosition = StartingPosition.TRIM_HORIZON
    poll_interval_seconds: float = BASE_POLL_INTERVAL
    max_payload_bytes: int = MAX_PAYLOAD_BYTES

    def __post_init__(self) -> None:
        _check("BatchSize", self.batch_size, 1, 10_000)
        _check("MaximumBatchingWindowInSeconds", self.batching_window_seconds, 0, 300)
        _check("MaximumRetryAttempts", self.max_retry_attempts, -1, 10_000)
        if self.max_record_age_seconds != -1:
            _check("MaximumRecordAgeInSeconds", self.max_record_age_seconds, 60, 604_800)
        _check("TumblingWindowInSeconds", self.tumbling_window_seconds, 0, 900)

    @property
    def windowed(self) -> bool:
        return self.tumbling_window_seconds > 0


# Both mappings as the CDK app creates them (cdk/constructs/stream_consumer.py and the two
# consumer constructs): partial batch responses, bisection, bounded retries and record age.


def replicator_mapping(cfg: DeploymentConfig) -> MappingSettings:
    """The replicator's mapping, from TRIM_HORIZON: every change still in the stream is replicated."""
    return MappingSettings(
        batch_size=cfg.batch_size,
        batching_window_seconds=cfg.batching_window_seconds,
        max_retry_attempts=cfg.max_retry_attempts,
        max_record_age_seconds=cfg.max_record_age_seconds,
        bisect_on_error=True,
        report_batch_item_failures=True,
    )


def metrics_mapping(cfg: DeploymentConfig, *, tumbling_window_seconds: int | None = None) -> MappingSettings:
    """The usage-metrics mapping: the same, plus a tumbling window, starting at LATEST (as deployed)."""
    window = tumbling_window_seconds or cfg.tumbling_window_seconds
    return replace(
        replicator_mapping(cfg), tumbling_window_seconds=window, starting_position=StartingPosition.LATEST
    )
