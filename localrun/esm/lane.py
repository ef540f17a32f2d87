"""One virtual shard at work: its processor, fed by the poller and stepped by one thread at a time.

The mapping's thread routes records into a lane's inbox (:meth:`Lane.deliver`); only the run of
:meth:`Lane.work` in progress touches the processor, and the runner starts the next run only once
the previous one has returned. So each virtual shard is strictly sequential, as a Lambda shard is
(one invocation at a time, in order), while the lanes of a mapping run side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from localrun.esm.processor import ShardProcessor
from localrun.esm.records import PendingRecord


class Lane:
    def __init__(self, processor: ShardProcessor) -> None:
        self.processor = processor
        self._lock = threading.Lock()
        self._inbox: list[tuple[float, Sequence[PendingRecord]]] = []
        self._ending = False
        self._told_end = False
        self.queued = 0
        """Records delivered and not yet processed, as of the last run (read by the poller)."""
        self.future: Future[None] | None = None
        """The run in progress on the runner's pool, if any."""

    @property
    def shard_id(self) -> str:
        return self.processor.shard_id

    def deliver(self, records: Sequence[PendingRecord], *, now: float) -> None:
        """Records read at ``now`` for this shard, in stream order (the poller's thread)."""
        with self._lock:
            self._inbox.append((now, records))
            self.queued += len(records)

    def end(self) -> None:
        """Every record of this shard has been delivered: it closes once they are processed."""
        with self._lock:
            self._ending = True

    @property
    def running(self) -> bool:
        return self.future is not None and not self.future.done()

    @property
    def has_work(self) -> bool:
        """Something for a run to do: records delivered or in hand, a window open, an end to pass on."""
        with self._lock:
            news = bool(self._inbox) or (self._ending and not self._told_end)
        return news or self.processor.busy

    @property
    def idle(self) -> bool:
        """Nothing delivered, waiting, being retried or in an open window (and no run in progress)."""
        with self._lock:
            empty = not self._inbox
        return empty and not self.running and not self.processor.busy

    @property
    def finished(self) -> bool:
        with self._lock:
            empty = not self._inbox
        return empty and not self.running and self.processor.finished

    def work(self, clock: Callable[[], float], *, read_through: float | None, steps: int) -> None:
        """Take what was delivered, then do up to ``steps`` due actions (each at most one invoke)."""
        with self._lock:
            delivered, self._inbox = self._inbox, []
            ending = self._ending
        processor = self.processor
        for read_at, records in delivered:
            processor.offer(records, now=read_at)
        if ending and not self._told_end:
            processor.end()
            self._told_end = True
        for _ in range(steps):
            if not processor.step(clock(), read_through=read_through):
                break
        with self._lock:
            self.queued = processor.buffered + sum(len(records) for _, records in self._inbox)
