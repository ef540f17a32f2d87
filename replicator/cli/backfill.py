"""Backfill: copy a source table that already holds data into an empty or partial replica, live.

Rule: **start replication first, then backfill.** For every scan page the source table's high-water
mark ``L`` is read *before* the page, and the page is read with a strongly consistent scan. Every
record the replicator has seen (sequence number <= L) was published before the page was read, so
the page is at least as new as each of them. Each item is then written at version ``L`` only where
the replica holds neither the item nor a tombstone for its key (a compare-and-set through
:meth:`~replicator.adapters.reconcile.Reconciler.write_current_state`):

* an item the stream already wrote is left alone (CONFLICT: counted as skipped);
* an item deleted meanwhile is not resurrected: its REMOVE either left a tombstone first (the
  write fails its condition) or comes later with a version above ``L`` and deletes the copy;
* a change made after the page was read has a version above ``L`` and overwrites the copy.

Items that exist in the replica from elsewhere (an older copy) are skipped, not compared: run
``check`` (and ``repair``) after a backfill to prove it converged.

Resumable: after each page, ``--state-file`` records each segment's LastEvaluatedKey (it holds
*key values* of the source table: keep it where the table's keys may be kept). Written atomically
(temporary file + rename), so an interruption at any moment leaves the last finished page.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ddbstream import item_size_bytes, primary_key
from ddbstream.attributes import item_from_event, item_to_event
from ddbstream.errors import MalformedRecord
from replicator.adapters.reconcile import Reconciler
from replicator.adapters.retry import Backoff
from replicator.cli.errors import CliError, StateFileProblem
from replicator.cli.files import write_json
from replicator.cli.parallel import check_stop, run_all
from replicator.cli.progress import Progress
from replicator.cli.scan import Reader, TokenBucket, persist
from replicator.core import version
from replicator.core.compare import Rules
from replicator.core.errors import ReplicatorError, RetryableError
from replicator.core.repair import RepairOutcome, ReplicaState
from replicator.core.view import replicated_view

STATE_FORMAT = 1
NOTHING = ReplicaState(item=None, tombstone_version=None)


@dataclass(slots=True)
class SegmentProgress:
    start_key: dict[str, Any] | None = None  # Lambda-event form (binary as base64 text)
    done: bool = False
    pages: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass(slots=True)
class BackfillState:
    source: str
    replica: str
    total_segments: int
    segments: dict[int, SegmentProgress]

    @classmethod
    def fresh(cls, source: str, replica: str, total_segments: int) -> BackfillState:
        return cls(source, replica, total_segments, {s: SegmentProgress() for s in range(total_segments)})

    @classmethod
    def load(cls, path: Path, *, source: str, replica: str, total_segments: int) -> BackfillState:
        """The saved state, or a fresh one when the file does not exist; it must be this backfill's."""
        if not path.exists():
            return cls.fresh(source, replica, total_segments)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or raw.get("format") != STATE_FORMAT:
                raise ValueError("not a JSON object of this backfill format")
            segments = {int(s): SegmentProgress(**p) for s, p in raw["segments"].items()}
            state = cls(raw["source"], raw["replica"], int(raw["totalSegments"]), segments)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StateFileProblem(
                f"the state file {str(path)!r} is not a backfill state file ({exc}); "
                "name another --state-file, or delete it to start the backfill over"
            ) from None
        if (state.source, state.replica) != (source, replica):
            raise StateFileProblem(
                f"the state file {str(path)!r} belongs to a backfill of {state.source} into {state.replica}"
            )
        if state.total_segments != total_segments:
            raise StateFileProblem(
                f"the state file {str(path)!r} was written with --segments {state.total_segments}; "
                "resume with the same number"
            )
        return state

    def save(self, path: Path) -> None:
        document = {
            "format": STATE_FORMAT,
            "source": self.source,
            "replica": self.replica,
            "totalSegments": self.total_segments,
            "segments": {str(s): asdict(p) for s, p in sorted(self.segments.items())},
        }
        write_json(path, document)

    @property
    def done(self) -> bool:
        return all(p.done for p in self.segments.values())

    def total(self, name: str) -> int:
        return sum(int(getattr(p, name)) for p in self.segments.values())


def write_units(item: dict[str, Any]) -> float:
    """Estimated write units of one backfill transaction: the put and the tombstone check, doubled."""
    return 2 * (math.ceil(max(1, item_size_bytes(item)) / 1024) + 1)


@dataclass
class Backfiller:
    source: Reader
    reconciler: Reconciler
    rules: Rules
    source_table: str
    state: BackfillState
    state_path: Path
    page_size: int | None = 1000
    write_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(None))
    on_page: Callable[[int, int], None] = lambda segment, page: None
    progress: Progress | None = None
    retry_seconds: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(self, *, workers: int) -> BackfillState:
        pending = [s for s, p in sorted(self.state.segments.items()) if not p.done]
        run_all([self._segment_task(s) for s in pending], workers=workers, name="backfill")
        if self.progress is not None:
            self.progress.close()
        return self.state

    def _retrying(self, attempt: Callable[[], Any]) -> Any:
        return persist(
            attempt, seconds=self.retry_seconds, backoff=Backoff(base=0.1, cap=10.0), sleep=self.sleep
        )

    def _segment_task(self, segment: int) -> Callable[[threading.Event], None]:
        progress = self.state.segments[segment]

        def task(stop: threading.Event) -> None:
            start = _key_from_state(progress.start_key, self.state_path)
            pages = self.source.scan(
                segment, self.state.total_segments, consistent=True, page_size=self.page_size, start_key=start
            )
            while True:
                check_stop(stop)
                # The mark is read before the page: every record it covers is visible in the page.
                mark = self._retrying(lambda: self.reconciler.read_watermark(self.source_table))
                page = next(pages, None)
                if page is None:
                    break
                written, skipped, failed = self._copy(page.items, mark or version.ZERO)
                with self._lock:
                    progress.pages += 1
                    progress.written += written
                    progress.skipped += skipped
                    progress.failed += failed
                    progress.start_key = (
                        item_to_event(page.last_evaluated_key) if page.last_evaluated_key else None
                    )
                    progress.done = page.last_evaluated_key is None
                    self.state.save(self.state_path)
                if self.progress is not None:
                    self.progress.advance(len(page.items))
                self.on_page(segment, progress.pages)
                if progress.done:
                    return
            with self._lock:  # an empty segment: no page ever came back
                progress.done = True
                self.state.save(self.state_path)

        return task

    def _copy(self, items: list[dict[str, Any]], mark: str) -> tuple[int, int, int]:
        written = skipped = failed = 0
        for item in items:
            keys = primary_key(item, self.rules.key_names)
            try:
                view = replicated_view(item, self.rules.excluded)
                self.write_bucket.wait()
                outcome = self._retrying(
                    lambda k=keys, v=view: self.reconciler.write_current_state(k, NOTHING, v, mark)  # type: ignore[misc]
                )
                self.write_bucket.charge(write_units(view))
            except RetryableError as exc:
                # Throttled for the whole retry budget, denied, or a table missing: stop here; the
                # state file still points at this page, so running the command again resumes.
                raise CliError(f"backfill cannot write to the replica: {exc}") from None
            except ReplicatorError:
                failed += 1  # an item that can never be copied (e.g. too large); `check` names its key
                continue
            if outcome is RepairOutcome.CONFLICT:
                skipped += 1  # the stream (or an earlier run) already put this key, or deleted it
            else:
                written += 1
        return written, skipped, failed


def _key_from_state(raw: dict[str, Any] | None, path: Path) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return item_from_event(raw, "LastEvaluatedKey")
    except MalformedRecord:
        raise StateFileProblem(f"the state file {str(path)!r} holds a malformed LastEvaluatedKey") from None
