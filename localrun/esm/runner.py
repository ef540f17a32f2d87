"""Drive event source mappings: discover shards, poll them, run their virtual shards in threads.

One thread per mapping (a function on a stream) discovers the stream's shards, polls each at most
four times a second, a child only after its parent is finished, and routes the records to the
shard's virtual shards (``source.py``). With one virtual shard per stream shard (the default) that
thread also runs the processors, in turn, as before virtual shards existed. With more, each virtual
shard runs on a thread of the mapping's pool, one run at a time (so in order), all side by side, as
Lambda invokes one function per shard concurrently. Any error talking to the stream is logged and
retried on the next round, as Lambda's pollers keep going.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent import futures
from typing import TYPE_CHECKING, Any

from localrun.esm.checkpoints import CheckpointStore
from localrun.esm.failure import FailureDestination, NoDestination
from localrun.esm.lane import Lane
from localrun.esm.lineage import ShardLayout, ShardLayoutError
from localrun.esm.ports import Observer, QuietObserver, exponential_backoff
from localrun.esm.processor import ShardProcessor
from localrun.esm.records import PendingRecord
from localrun.esm.settings import MappingSettings, StartingPosition
from localrun.esm.shards import ShardInfo, ShardReader, list_shards, ready_shards
from localrun.esm.source import SourceShard
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
_POOL_THREADS = 32  # lanes beyond this wait for a free thread (still one run at a time each)


class EventSourceMapping:
    """A function subscribed to a stream with Lambda's event-source-mapping semantics.

    ``shards``: virtual shards per stream shard (``lineage.py``), each with its own batches,
    checkpoints and tumbling windows, run concurrently; records go to them by a hash of
    ``partition_key`` (the whole primary key when ``None``). ``1``: the stream's own shards only.
    """

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
        shards: int = 1,
        partition_key: str | None = None,
    ) -> None:
        if shards < 1:
            raise ShardLayoutError(
                f"a mapping needs at least one virtual shard per stream shard; got {shards}"
            )
        self.function = function
        self.stream_arn = stream_arn
        self.settings = settings
        self.checkpoints = checkpoints or CheckpointStore()
        self.shard_count = shards
        self.partition_key = partition_key
        self._streams = streams
        self._router = router
        self._destination = destination or NoDestination()
        self._observer = observer or QuietObserver()
        self._annotate = annotate
        self._backoff = backoff
        self._clock = clock
        self._refresh_every = shard_refresh_seconds
        self._max_buffered = max_buffered
        self._sources: dict[str, SourceShard] = {}
        self._pool: futures.ThreadPoolExecutor | None = None
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
        """The virtual shards not yet finished (with one per stream shard: the stream's shards)."""
        return [
            shard_id
            for source in list(self._sources.values())
            for shard_id in source.layout.ids
            if shard_id in source.lanes
        ]

    @property
    def layouts(self) -> dict[str, ShardLayout]:
        """Each stream shard being read, with its virtual shards and their lineage."""
        return {source_id: source.layout for source_id, source in list(self._sources.items())}

    def _lane(self, shard_id: str) -> tuple[SourceShard, Lane | None]:
        for source in list(self._sources.values()):
            if shard_id in source.layout.ids:
                return source, source.lanes.get(shard_id)
        raise ShardLayoutError(
            f"no shard {shard_id!r} is being read by {self.function.name}; it has {self.shards}"
        )

    def processor(self, shard_id: str) -> ShardProcessor:
        lane = self._lane(shard_id)[1]
        if lane is None:
            raise ShardLayoutError(f"{shard_id} has finished")
        return lane.processor

    def read_position(self, shard_id: str) -> int | None:
        """The last sequence number read from the stream shard that holds ``shard_id``."""
        return self._lane(shard_id)[0].last_read

    def split(self, shard_id: str, *, after: int | None = None) -> list[str]:
        """Split a virtual shard: its records up to ``after`` (default, and at the least: the last
        record read) stay its own; later ones go to its two children, which start once it finishes.
        Returns the children's ids."""
        return self._lane(shard_id)[0].split(shard_id, after=after, now=self._clock())

    def caught_up(self, since: float) -> bool:
        """Every record written before ``since`` has been processed and every window closed."""
        idle = self._idle_since
        return idle is not None and idle >= since

    def close(self) -> None:
        """Stop the pool's threads once their runs end (a mapping is not used after this)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _invoke(self, event: dict[str, Any]) -> Invocation:
        return invoke(self.function, event, router=self._router)

    def _new_processor(
        self, source_id: str, shard_id: str, on_checkpoint: Callable[[str], None]
    ) -> ShardProcessor:
        return ShardProcessor(
            function=self.function,
            shard_id=shard_id,
            source_shard_id=source_id,
            stream_arn=self.stream_arn,
            settings=self.settings,
            invoker=self._invoke,
            destination=self._destination,
            on_checkpoint=on_checkpoint,
            observer=self._observer,
            backoff=self._backoff,
        )

    def _start_source(self, info: ShardInfo) -> None:
        source_id = info.shard_id
        after = self.checkpoints.position(self.key, source_id)
        # The configured starting position applies to the shards there when the mapping is created;
        # shards that appear later (children of a split) are read from their beginning.
        start = self.settings.starting_position if not self._discovered else StartingPosition.TRIM_HORIZON
        reader = ShardReader(self._streams, self.stream_arn, source_id, after=after, start=start)
        layout = ShardLayout.rebuild(source_id, self.shard_count, self.checkpoints.splits(self.key))
        self._sources[source_id] = SourceShard(
            info=info,
            reader=reader,
            layout=layout,
            checkpoints=self.checkpoints,
            mapping_key=self.key,
            new_processor=lambda shard_id, checkpointed: self._new_processor(
                source_id, shard_id, checkpointed
            ),
            partition_key=self.partition_key,
            now=self._clock(),
        )

    def _refresh(self, now: float) -> None:
        shards = list_shards(self._streams, self.stream_arn)
        by_id = {shard.shard_id: shard for shard in shards}
        for shard_id in ready_shards(shards, self.checkpoints.finished_shards(self.key)):
            if shard_id not in self._sources:
                self._start_source(by_id[shard_id])
        self._discovered = True
        self._next_refresh = now + self._refresh_every

    def _shape(self, raw: Mapping[str, Any]) -> PendingRecord:
        annotate = self._annotate
        return PendingRecord.from_stream(annotate(raw) if annotate else raw, stream_arn=self.stream_arn)

    def _run_lane(self, lane: Lane, read_through: float | None) -> None:
        try:
            lane.work(self._clock, read_through=read_through, steps=_STEPS_PER_ROUND)
        except Exception:
            log.exception("%s: processing %s failed; retrying", self.function.name, lane.shard_id)

    def _dispatch(self, source: SourceShard) -> list[futures.Future[None]]:
        """Start a run of every lane that may run, has work and is not running (inline for a stream
        shard of one virtual shard)."""
        started = []
        for lane in source.ready_lanes():
            # A run with nothing to do would only make an idle lane look busy.
            if lane.running or not lane.has_work:
                continue
            if source.layout.single:
                # As before virtual shards: the mapping's own thread, errors to the caller's loop.
                lane.work(self._clock, read_through=source.read_through, steps=_STEPS_PER_ROUND)
                continue
            if self._pool is None:
                self._pool = futures.ThreadPoolExecutor(
                    _POOL_THREADS, thread_name_prefix=f"esm:{self.function.name}"
                )
            lane.future = self._pool.submit(self._run_lane, lane, source.read_through)
            started.append(lane.future)
        return started

    def tick(self, *, wait: bool = True) -> float:
        """One round: poll the shards and run their virtual shards; returns how long the mapping may
        sleep before the next. ``wait``: return only once this round's runs have ended (the tests
        drive the mapping this way); the polling loop does not wait, so a slow shard holds up none
        of the others."""
        now = self._clock()
        if now >= self._next_refresh:
            self._refresh(now)
        delay = max(0.0, self._next_refresh - now)
        started: list[futures.Future[None]] = []
        for source in list(self._sources.values()):
            if source.reader.ended:
                source.read_through = now
            elif now >= source.next_poll and source.buffered < self._max_buffered:
                source.poll(_READ_LIMIT, self._shape, now=now)
                source.next_poll = now + self.settings.poll_interval_seconds
            source.mark_ends()
            started += self._dispatch(source)
        if wait:
            futures.wait(started)
        idle_since: float | None = float("inf")
        for source_id, source in list(self._sources.items()):
            if source.settle():
                delay = 0.0  # children of a finished virtual shard may start now
            if source.done:
                self.checkpoints.finish(self.key, source_id)
                del self._sources[source_id]
                self._next_refresh = 0.0  # its children may start now
                delay = 0.0
                continue
            delay = min(delay, max(0.0, source.next_poll - self._clock()))
            if source.busy:
                delay = min(delay, _BUSY_RECHECK)
                idle_since = None
            elif idle_since is not None:
                idle_since = min(idle_since, source.read_through or 0.0)
        self._idle_since = None if idle_since is None or not self._sources else idle_since
        return delay

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    delay = self.tick(wait=False)
                    self.ready.set()
                except Exception:
                    log.exception("%s: polling %s failed; retrying", self.function.name, self.stream_arn)
                    delay = 1.0
                stop.wait(delay)
        finally:
            self.close()
