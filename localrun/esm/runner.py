"""Drive event source mappings: discover shards, poll them, feed and step their processors.

One thread per mapping (a function on a stream). Within a mapping, shards are served in turn, each
polled at most four times a second, a child only after its parent is finished. Any error talking to
the stream is logged and retried on the next round, as Lambda's pollers keep going.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localrun.esm.checkpoints import CheckpointStore
from localrun.esm.failure import FailureDestination, NoDestination
from localrun.esm.ports import Observer, QuietObserver, exponential_backoff
from localrun.esm.processor import ShardProcessor
from localrun.esm.records import PendingRecord
from localrun.esm.settings import MappingSettings, StartingPosition
from localrun.esm.shards import ShardInfo, ShardReader, list_shards, ready_shards
from localrun.invoke.capture import OutputRouter
from localrun.invoke.function import Function, Invocation, invoke

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger(__name__)

Annotate = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""A hook that may enrich a GetRecords record before it is shaped (the TTL emulation uses it)."""

_READ_LIMIT = 1000  # GetRecords' maximum
_STEPS_PER_ROUND = 50  # invocations one shard may make before the next shard gets a turn
_BUSY_RECHECK = 0.05


@dataclass(slots=True)
class _Worker:
    info: ShardInfo
    reader: ShardReader
    processor: ShardProcessor
    next_poll: float = 0.0
    read_through: float | None = None


class EventSourceMapping:
    """A function subscribed to a stream with Lambda's event-source-mapping semantics."""

    def __init__(
        self,
        *,
        function: Function,
        stream_arn: str,
        streams: DynamoDBStreamsClient,
        settings: MappingSettings,
        router: OutputRouter,
        destination: FailureDestination | None = None,
        checkpoints: CheckpointStore | None = None,
        observer: Observer | None = None,
        annotate: Annotate | None = None,
        backoff: Callable[[int], float] = exponential_backoff,
        clock: Callable[[], float] = time.time,
        shard_refresh_seconds: float = 10.0,
        max_buffered: int = 10_000,
    ) -> None:
        self.function = function
        self.stream_arn = stream_arn
        self.settings = settings
        self.checkpoints = checkpoints or CheckpointStore()
        self._streams = streams
        self._router = router
        self._destination = destination or NoDestination()
        self._observer = observer or QuietObserver()
        self._annotate = annotate
        self._backoff = backoff
        self._clock = clock
        self._refresh_every = shard_refresh_seconds
        self._max_buffered = max_buffered
        self._workers: dict[str, _Worker] = {}
        self._next_refresh = 0.0
        self._discovered = False
        self._idle_since: float | None = None
        self.ready = threading.Event()
        """Set after the first round: shards found and their iterators taken (LATEST means "from here")."""

    @property
    def key(self) -> str:
        """Identifies this mapping's checkpoints: one function on one stream."""
        return f"{self.function.name}|{self.stream_arn}"

    @property
    def shards(self) -> list[str]:
        return list(self._workers)

    def processor(self, shard_id: str) -> ShardProcessor:
        return self._workers[shard_id].processor

    def caught_up(self, since: float) -> bool:
        """Every record written before ``since`` has been processed and every window closed."""
        idle = self._idle_since
        return idle is not None and idle >= since

    def _invoke(self, event: dict[str, Any]) -> Invocation:
        return invoke(self.function, event, router=self._router)

    def _start_worker(self, info: ShardInfo) -> None:
        after = self.checkpoints.position(self.key, info.shard_id)
        # The configured starting position applies to the shards there when the mapping is created;
        # shards that appear later (children of a split) are read from their beginning.
        start = self.settings.starting_position if not self._discovered else StartingPosition.TRIM_HORIZON
        reader = ShardReader(self._streams, self.stream_arn, info.shard_id, after=after, start=start)
        shard_id = info.shard_id
        processor = ShardProcessor(
            function=self.function,
            shard_id=shard_id,
            stream_arn=self.stream_arn,
            settings=self.settings,
            invoker=self._invoke,
            destination=self._destination,
            on_checkpoint=lambda seq: self.checkpoints.advance(self.key, shard_id, seq),
            observer=self._observer,
            backoff=self._backoff,
        )
        self._workers[shard_id] = _Worker(info, reader, processor)

    def _refresh(self, now: float) -> None:
        shards = list_shards(self._streams, self.stream_arn)
        by_id = {shard.shard_id: shard for shard in shards}
        for shard_id in ready_shards(shards, self.checkpoints.finished_shards(self.key)):
            if shard_id not in self._workers:
                self._start_worker(by_id[shard_id])
        self._discovered = True
        self._next_refresh = now + self._refresh_every

    def _poll(self, worker: _Worker, now: float) -> None:
        result = worker.reader.read(_READ_LIMIT)
        annotate = self._annotate
        records = [
            PendingRecord.from_stream(annotate(raw) if annotate else raw, stream_arn=self.stream_arn)
            for raw in result.records
        ]
        worker.processor.offer(records, now=self._clock())
        if len(records) < _READ_LIMIT:
            worker.read_through = now  # everything created before this poll began has been read
        worker.next_poll = now + self.settings.poll_interval_seconds

    def tick(self) -> float:
        """One round over the shards; returns how long the mapping may sleep before the next."""
        now = self._clock()
        if now >= self._next_refresh:
            self._refresh(now)
        delay = max(0.0, self._next_refresh - now)
        idle_since: float | None = float("inf")
        for shard_id, worker in list(self._workers.items()):
            processor = worker.processor
            if worker.reader.ended:
                worker.read_through = now
            elif now >= worker.next_poll and processor.buffered < self._max_buffered:
                self._poll(worker, now)
            for _ in range(_STEPS_PER_ROUND):
                if not processor.step(self._clock(), read_through=worker.read_through):
                    break
            if worker.reader.ended and not processor.busy:
                self.checkpoints.finish(self.key, shard_id)
                del self._workers[shard_id]
                self._next_refresh = 0.0  # its children may start now
                delay = 0.0
                continue
            delay = min(delay, max(0.0, worker.next_poll - self._clock()))
            if processor.busy:
                delay = min(delay, _BUSY_RECHECK)
                idle_since = None
            elif idle_since is not None:
                idle_since = min(idle_since, worker.read_through or 0.0)
        self._idle_since = None if idle_since is None or not self._workers else idle_since
        return delay

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                delay = self.tick()
                self.ready.set()
            except Exception:
                log.exception("%s: polling %s failed; retrying", self.function.name, self.stream_arn)
                delay = 1.0
            stop.wait(delay)


class StreamRunner:
    """Runs mappings in background threads while stdout is routed to the invocations."""

    def __init__(self, mappings: Sequence[EventSourceMapping], router: OutputRouter) -> None:
        self.mappings = list(mappings)
        self._router = router
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @contextmanager
    def running(self) -> Iterator[StreamRunner]:
        with self._router.installed():
            self._stop.clear()
            self._threads = [
                threading.Thread(
                    target=mapping.run, args=(self._stop,), name=f"esm:{mapping.function.name}", daemon=True
                )
                for mapping in self.mappings
            ]
            for thread in self._threads:
                thread.start()
            for mapping in self.mappings:
                # Like a mapping created before the first write: LATEST then misses nothing.
                mapping.ready.wait(timeout=10)
            try:
                yield self
            finally:
                self._stop.set()
                for thread in self._threads:
                    thread.join(timeout=30)

    def wait_caught_up(self, *, since: float | None = None, timeout: float = 60.0, poll: float = 0.1) -> bool:
        """Wait until every mapping has processed what was written before ``since`` (default: now)."""
        mark = time.time() if since is None else since
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(mapping.caught_up(mark) for mapping in self.mappings):
                return True
            time.sleep(poll)
        return False
