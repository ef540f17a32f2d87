"""One shard of one event source mapping: batches, invokes, retries, bisection, windows, checkpoints.

The processor does no stream I/O: the runner hands it the records it read (:meth:`offer`) and calls
:meth:`step` whenever it may act; each step does at most one invocation. Time comes in as an
argument, so tests drive it without sleeping.

Semantics (see docs/local-runtime.md for the sources and the known differences from AWS):

* records older than MaximumRecordAgeInSeconds are discarded before an invoke (RecordAgeExceeded);
* a failed invocation is bisected when BisectBatchOnFunctionError is on (splitting does not use up
  retries); otherwise, and for a partial batch response, the remaining records are retried until
  MaximumRetryAttempts retries have failed, then reported to the on-failure destination
  (RetryAttemptsExhausted) and skipped;
* a partial batch response checkpoints the records before the lowest failed sequence number and
  delivers the batch again from there;
* with a tumbling window, a batch never spans windows, each invoke carries the state the previous
  one returned, the window ends with a final invoke (no records), and the checkpoint only moves when
  that final invoke succeeds, so a restarted runner delivers an unfinished window again;
* when the shard ends (:meth:`ShardProcessor.end`: the stream shard closed, or the virtual shard was
  split), its records are processed and the open window closes with its final invoke at once, marked
  ``isWindowTerminatedEarly`` when it closes before its end; its children start fresh windows.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from localrun.esm.batches import batch_is_ready, batch_length, expired_prefix, halves, window_start
from localrun.esm.failure import Condition, FailureDestination, failure_message
from localrun.esm.outcome import Verdict, judge
from localrun.esm.ports import Invoker, Observer, exponential_backoff
from localrun.esm.records import PendingRecord
from localrun.esm.settings import MappingSettings
from localrun.esm.window import OpenWindow
from localrun.invoke.function import Function

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Attempt:
    records: list[PendingRecord]
    retries: int = 0
    invokes: int = 0
    not_before: float = 0.0
    request_id: str | None = None
    function_error: str | None = None


class ShardProcessor:
    def __init__(
        self,
        *,
        function: Function,
        shard_id: str,
        stream_arn: str,
        settings: MappingSettings,
        invoker: Invoker,
        destination: FailureDestination,
        on_checkpoint: Callable[[str], None],
        observer: Observer,
        backoff: Callable[[int], float] = exponential_backoff,
        source_shard_id: str | None = None,
    ) -> None:
        self.function = function
        self.shard_id = shard_id
        self.source_shard_id = source_shard_id or shard_id
        """The stream shard the records are read from (a virtual shard's records live in it)."""
        self.stream_arn = stream_arn
        self.settings = settings
        self._invoke = invoker
        self._destination = destination
        self._on_checkpoint = on_checkpoint
        self._observer = observer
        self._backoff = backoff
        self._pending: deque[PendingRecord] = deque()
        self._read_at: deque[float] = deque()
        self._work: deque[_Attempt] = deque()
        self._window: OpenWindow | None = None
        self._closing = False
        self._final_failures = 0
        self._final_not_before = 0.0
        self._held_checkpoint: str | None = None
        self._ending = False

    # --- what the runner asks -----------------------------------------------------------------

    def offer(self, records: Iterable[PendingRecord], *, now: float) -> None:
        for record in records:
            self._pending.append(record)
            self._read_at.append(now)

    @property
    def buffered(self) -> int:
        return len(self._pending) + sum(len(attempt.records) for attempt in self._work)

    @property
    def busy(self) -> bool:
        """Records waiting, a batch being retried, or a window not yet closed by its final invoke."""
        return bool(self._pending or self._work or self._window is not None)

    @property
    def closing(self) -> bool:
        """The open window is due for its final invoke."""
        return self._closing

    @property
    def window(self) -> OpenWindow | None:
        return self._window

    def end(self) -> None:
        """No record will be offered after those already offered: the shard ended (or was split)."""
        self._ending = True

    @property
    def finished(self) -> bool:
        """Ended, every record processed and the last window closed: its children may start."""
        return self._ending and not self.busy

    def step(self, now: float, *, read_through: float | None = None) -> bool:
        """Do the next due action (at most one invoke); ``True`` if something happened.

        ``read_through``: the start time of the latest poll that found no new records, i.e. every
        record created before it has been offered. A window closes once that time passes its end.
        """
        if self._closing:
            return self._final_invoke(now)
        if not self._work and not self._next_batch(now, read_through):
            if self._ending and not self._pending:
                self._shard_end(now)
            return self._final_invoke(now) if self.closing else False
        attempt = self._work[0]
        if now < attempt.not_before:
            return False
        return self._run(attempt, now)

    # --- batches ------------------------------------------------------------------------------

    def _next_batch(self, now: float, read_through: float | None) -> bool:
        settings = self.settings
        if not self._pending:
            if (
                self._window is not None
                and read_through is not None
                and read_through >= self._window.end
                and now >= self._window.end
            ):
                self._closing = True
            return False
        if self._window is not None:
            first = window_start(self._pending[0].created_at, settings.tumbling_window_seconds, now=now)
            if first != self._window.start:
                self._closing = True
                return False
        pending = list(self._pending)
        if not batch_is_ready(pending, settings, now=now, first_buffered_at=self._read_at[0]):
            return False
        count = batch_length(pending, settings, now=now)
        records = [self._pending.popleft() for _ in range(count)]
        for _ in range(count):
            self._read_at.popleft()
        self._work.append(_Attempt(records))
        return True

    def _run(self, attempt: _Attempt, now: float) -> bool:
        settings = self.settings
        expired = expired_prefix(attempt.records, now=now, max_age_seconds=settings.max_record_age_seconds)
        if expired:
            self._discard(attempt.records[:expired], Condition.RECORD_AGE_EXCEEDED, attempt, now)
            del attempt.records[:expired]
            if not attempt.records:
                self._work.popleft()
                return True
        event: dict[str, Any] = {"Records": [record.event for record in attempt.records]}
        if settings.windowed:
            if self._window is None:
                start = window_start(attempt.records[0].created_at, settings.tumbling_window_seconds, now=now)
                self._window = OpenWindow(start, start + settings.tumbling_window_seconds)
            event.update(
                self._window.event_fields(shard_id=self.shard_id, stream_arn=self.stream_arn, final=False)
            )
        invocation = self._invoke(event)
        attempt.invokes += 1
        attempt.request_id = invocation.request_id
        last = attempt.records[-1]
        age = (now - last.created_at) * 1000 if last.created_at is not None else None
        self._observer.invoked(self.function, invocation, records=len(attempt.records), iterator_age_ms=age)
        outcome = judge(
            invocation,
            attempt.records,
            report_batch_item_failures=settings.report_batch_item_failures,
            windowed=settings.windowed,
        )
        if self._window is not None and outcome.verdict is not Verdict.FAILED and outcome.has_state:
            self._window.update(outcome.state)
            self._closing = self._window.terminated_early
        if outcome.verdict is Verdict.SUCCESS:
            self._checkpoint(last.sequence_number)
            self._work.popleft()
        elif outcome.verdict is Verdict.PARTIAL:
            if outcome.retry_from > 0:
                self._checkpoint(attempt.records[outcome.retry_from - 1].sequence_number)
                del attempt.records[: outcome.retry_from]
            self._retry_or_discard(attempt, outcome.function_error, now)
        elif settings.bisect_on_error and outcome.bisectable and len(attempt.records) > 1:
            log.debug(
                "%s %s: bisecting a failed batch of %d",
                self.function.name,
                self.shard_id,
                len(attempt.records),
            )
            first, second = halves(attempt.records)
            self._work.popleft()
            for part in (second, first):
                self._work.appendleft(
                    _Attempt(
                        part,
                        attempt.retries,
                        attempt.invokes,
                        now,
                        attempt.request_id,
                        outcome.function_error,
                    )
                )
        else:
            self._retry_or_discard(attempt, outcome.function_error, now)
        return True

    def _retry_or_discard(self, attempt: _Attempt, function_error: str | None, now: float) -> None:
        attempt.retries += 1
        attempt.function_error = function_error
        limit = self.settings.max_retry_attempts
        if 0 <= limit < attempt.retries:
            self._discard(attempt.records, Condition.RETRY_ATTEMPTS_EXHAUSTED, attempt, now)
            self._work.popleft()
        else:
            attempt.not_before = now + self._backoff(attempt.retries)

    def _discard(
        self, records: list[PendingRecord], condition: Condition, attempt: _Attempt, now: float
    ) -> None:
        message = failure_message(
            records=records,
            condition=condition,
            function_arn=self.function.arn,
            request_id=attempt.request_id or str(uuid.uuid4()),
            invoke_count=attempt.invokes,
            function_error=attempt.function_error,
            # Where the records can be read again (python -m replicator redrive reads this range).
            shard_id=self.source_shard_id,
            stream_arn=self.stream_arn,
            now=now,
        )
        log.warning(
            "%s: %d record(s) of %s discarded (%s), %s..%s",
            self.function.name,
            len(records),
            self.shard_id,
            condition.value,
            records[0].sequence_number,
            records[-1].sequence_number,
        )
        self._destination.send(message)
        self._observer.discarded(self.function, len(records), condition)
        self._checkpoint(records[-1].sequence_number)

    # --- windows and checkpoints --------------------------------------------------------------

    def _shard_end(self, now: float) -> None:
        # "When a shard ends, Lambda considers the current window to be closed, and any child shards
        # will start their own window in a fresh state" (Lambda developer guide, services-ddb-windows).
        window = self._window
        if window is None or self._closing:
            return
        window.terminated_early = now < window.end
        self._closing = True

    def _final_invoke(self, now: float) -> bool:
        window = self._window
        if window is None:
            self._closing = False
            return False
        if now < self._final_not_before:
            return False
        event: dict[str, Any] = {"Records": []}
        event.update(window.event_fields(shard_id=self.shard_id, stream_arn=self.stream_arn, final=True))
        invocation = self._invoke(event)
        self._observer.invoked(self.function, invocation, records=0, iterator_age_ms=None)
        if invocation.failed:
            # Lambda pauses the shard until the final invoke succeeds.
            self._final_failures += 1
            self._final_not_before = now + self._backoff(self._final_failures)
            log.warning(
                "%s: final invoke for window %d failed (%s)",
                self.function.name,
                window.start,
                invocation.error_type,
            )
            return True
        if not (isinstance(invocation.response, Mapping) and "state" in invocation.response):
            log.warning(
                "%s: final invoke answered without 'state' (Lambda expects it in every response)",
                self.function.name,
            )
        self._closing = False
        self._final_failures = 0
        if window.terminated_early and not self._ending:
            window.restart()
        else:
            self._window = None
        if self._held_checkpoint is not None:
            self._on_checkpoint(self._held_checkpoint)
            self._held_checkpoint = None
        return True

    def _checkpoint(self, sequence_number: str) -> None:
        if self._window is not None:
            self._held_checkpoint = sequence_number
        else:
            self._on_checkpoint(sequence_number)
