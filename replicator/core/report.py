"""Summarise one invocation: which records failed (for Lambda) and what to count (for metrics). Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from replicator.core.errors import ReplicatorError
from replicator.core.outcomes import ApplyResult, Outcome
from replicator.core.plan import Plan
from telemetry.catalogue import INTERNAL_ERROR, SkipReason

_SKIP_FOR = {
    Outcome.ALREADY_APPLIED: SkipReason.ALREADY_APPLIED,
    Outcome.STALE: SkipReason.STALE,
    Outcome.DELETED_LATER: SkipReason.DELETED_LATER,
}


def error_class(error: BaseException) -> str:
    """The ErrorClass a failure is reported under: one of ``catalogue.ERROR_CLASSES``.

    Our own errors keep their class name; anything else is a defect in the replicator, reported
    as ``InternalError`` so the dimension stays a closed set that dashboards can list.
    """
    return type(error).__name__ if isinstance(error, ReplicatorError) else INTERNAL_ERROR


def _message(error: BaseException) -> str:
    # An unexpected exception's text is not ours and may quote data: only its type is reported.
    return str(error) if isinstance(error, ReplicatorError) else f"unexpected {type(error).__name__}"


@dataclass(frozen=True, slots=True)
class Failure:
    """A record reported back to Lambda; names the error class, never the item's contents."""

    sequence_number: str | None
    key_hash: str | None
    error_class: str
    message: str


@dataclass(slots=True)
class BatchReport:
    failures: list[Failure] = field(default_factory=list)
    replicated: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    lag_ms: list[float] = field(default_factory=list)
    writes_issued: int = 0
    throttled_attempts: int = 0
    write_units: float = 0.0
    read_units: float = 0.0

    @property
    def unidentified_failures(self) -> int:
        """Failed records without a sequence number: Lambda can only retry these as a whole batch."""
        return sum(1 for failure in self.failures if failure.sequence_number is None)

    def batch_item_failures(self) -> list[dict[str, Any]]:
        """The partial batch response items, lowest sequence number first, each once."""
        sequences = {f.sequence_number for f in self.failures if f.sequence_number is not None}
        return [{"itemIdentifier": seq} for seq in sorted(sequences, key=int)]

    def _fail(self, failure: Failure, *, counts_a_record: bool = True) -> None:
        self.failures.append(failure)
        if counts_a_record:
            self.failed[failure.error_class] += 1


def summarise(plan: Plan, applied: ApplyResult) -> BatchReport:
    report = BatchReport(
        writes_issued=len(plan.writes),
        throttled_attempts=applied.throttled_attempts,
        write_units=applied.capacity.write_units,
        read_units=applied.capacity.read_units,
    )
    for skip in plan.skipped:
        report.skipped[skip.reason] += 1
    for rejected in plan.rejected:
        poison = rejected.error
        report._fail(Failure(rejected.sequence_number, rejected.key_hash, error_class(poison), str(poison)))
    for result in applied.results:
        write = result.write
        report.skipped[SkipReason.SUPERSEDED] += len(write.superseded)
        if result.error is not None:
            error = result.error
            report._fail(
                Failure(write.record.sequence_number, write.key_hash, error_class(error), _message(error))
            )
        elif result.outcome is Outcome.APPLIED:
            report.replicated[write.record.event_name.value] += 1
            if write.record.created_at is not None and result.acknowledged_at is not None:
                report.lag_ms.append(max(0.0, (result.acknowledged_at - write.record.created_at) * 1000))
        elif result.outcome is not None:
            report.skipped[_SKIP_FOR[result.outcome]] += 1
    if applied.watermark_error is not None:
        # Without the high-water mark a later repair could pick a version below these records, so
        # the whole batch is handed back: Lambda delivers it again from its first record.
        mark_error = applied.watermark_error
        message = f"high-water mark not recorded: {_message(mark_error)}"
        failure = Failure(plan.first_sequence_number, None, error_class(mark_error), message)
        report._fail(failure, counts_a_record=False)
    return report
