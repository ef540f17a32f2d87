"""How the event source mapping judges one invocation's result (pure).

Lambda's rules for DynamoDB streams, as documented for ReportBatchItemFailures:

* the function raised, timed out or returned something that is not JSON: the invocation failed
  (``functionError`` "Unhandled"); only this kind of failure is bisected;
* with a tumbling window, a response without ``state`` is a failed invocation;
* without ReportBatchItemFailures the response is ignored: no error means success;
* ``None``, ``{}``, or a null or empty ``batchItemFailures`` list: complete success;
* an ``itemIdentifier`` that is null, empty, not a string, or not the sequence number of a record
  in the batch, or a list entry that is not an object: the whole batch failed;
* otherwise the batch is checkpointed before the lowest failed sequence number, and processing
  resumes at that record (records after it are delivered again).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localrun.esm.records import PendingRecord
from localrun.invoke.function import Invocation

UNHANDLED = "Unhandled"


class Verdict(enum.Enum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    retry_from: int
    """Index of the first record to deliver again (the batch length on success)."""
    function_error: str | None
    """``Unhandled`` when the function itself failed; ``None`` when it answered."""
    bisectable: bool
    """Only invocation errors are split by BisectBatchOnFunctionError."""
    state: Any = None
    has_state: bool = False
    reason: str = ""


def _failed(reason: str, *, function_error: str | None, bisectable: bool) -> Outcome:
    return Outcome(Verdict.FAILED, 0, function_error, bisectable, reason=reason)


def _item_failures(response: Any, batch: Sequence[PendingRecord]) -> Outcome | int:
    """The index to resume from, or a whole-batch failure when the response cannot be used."""
    if response is None:
        return len(batch)
    if not isinstance(response, Mapping):
        return _failed("response is not an object", function_error=None, bisectable=False)
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return len(batch)
    if not isinstance(failures, list):
        return _failed("batchItemFailures is not a list", function_error=None, bisectable=False)
    index_of = {record.sequence_number: i for i, record in enumerate(batch)}
    lowest = len(batch)
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or identifier not in index_of:
            return _failed(
                "an itemIdentifier is missing, empty or not in the batch",
                function_error=None,
                bisectable=False,
            )
        lowest = min(lowest, index_of[identifier])
    return lowest


def judge(
    invocation: Invocation,
    batch: Sequence[PendingRecord],
    *,
    report_batch_item_failures: bool,
    windowed: bool,
) -> Outcome:
    """Decide what happened to a batch from the function's answer."""
    if invocation.failed:
        return _failed(f"function error {invocation.error_type}", function_error=UNHANDLED, bisectable=True)
    response = invocation.response
    has_state = isinstance(response, Mapping) and "state" in response
    state = response.get("state") if isinstance(response, Mapping) else None
    if windowed and not has_state:
        return _failed("a tumbling-window response must carry 'state'", function_error=None, bisectable=True)
    if not report_batch_item_failures:
        return Outcome(Verdict.SUCCESS, len(batch), None, False, state, has_state)
    resume = _item_failures(response, batch)
    if isinstance(resume, Outcome):
        return resume
    if resume == len(batch):
        return Outcome(Verdict.SUCCESS, resume, None, False, state, has_state)
    return Outcome(Verdict.PARTIAL, resume, None, False, state, has_state, reason="batchItemFailures")
