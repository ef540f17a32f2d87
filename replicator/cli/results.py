"""What each command found, as plain values: the check's result, a key's repair, a message's redrive. Pure.

They live apart from the commands that produce them (which hold boto3 clients) so that
:mod:`replicator.cli.report`, which only formats them, loads no AWS library.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from replicator.cli.diff import MatchStats
from replicator.cli.exports.results import ExportFacts
from replicator.cli.failure_message import BatchInfo
from replicator.core.compare import Difference
from replicator.core.repair import RepairOutcome


@dataclass(slots=True)
class CheckResult:
    differences: list[Difference]
    stats: MatchStats
    candidates: int
    settled: int
    """Candidates that agreed when read again: changes in flight, or TTL expiring meanwhile."""
    scanned_segments: int
    total_segments: int
    seconds: float
    source_units: float
    replica_units: float
    throttled: int
    sample: float | None = None
    exports: ExportFacts | None = None
    """Set by the export check: what it read and what the exports cost."""

    @property
    def consistent(self) -> bool:
        return not self.differences


class Status(enum.StrEnum):
    REPAIRED = "repaired"
    STILL_DIFFERENT = "still_different"  # written, but a read after the grace period still differs
    GAVE_UP = "gave_up"  # the replica kept changing under the repair: replication is busy on this key
    UNREPLICABLE = "unreplicable"  # the source item holds the replicator's reserved attribute
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class KeyRepair:
    difference: Difference
    status: Status
    outcome: RepairOutcome | None = None
    error_class: str | None = None


class Verdict(enum.StrEnum):
    APPLIED = "applied"  # every record applied (or already applied / stale): message deleted
    FAILED = "failed"  # some records were not applied: message kept
    AGED_OUT = "aged_out"  # the range left the stream: repaired from the source instead
    INCOMPLETE = "incomplete"  # the range's end was not reached: message kept
    UNKNOWN = "unknown"  # not a DynamoDB stream failure record: message kept
    OTHER_TABLE = "other_table"  # names another table's stream: message kept


@dataclass(slots=True)
class MessageResult:
    message_id: str
    receipt_handle: str
    verdict: Verdict
    info: BatchInfo | None = None
    records: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    detail: str = ""
