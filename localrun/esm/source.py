"""One stream shard, read once and fanned out to its virtual shards.

The mapping's thread polls the stream shard and routes each record to the lane of its virtual shard
(:meth:`~localrun.esm.lineage.ShardLayout.route`, by the position of its partition key). Each
virtual shard checkpoints under its own id; the stream shard's own entry holds the low-water mark
(``lowwater.py``), where a restarted runner resumes reading. With a single virtual shard the two are
the same shard, id and checkpoint, as before virtual shards existed.

A split closes a virtual shard after the last record read (``splitAfter``): the parent lane ends
once the stream has been read past that point, and its children run once it has finished.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from localrun.esm.checkpoints import CheckpointStore
from localrun.esm.lane import Lane
from localrun.esm.lineage import ShardLayout, VirtualShard
from localrun.esm.lowwater import LowWater
from localrun.esm.partition import record_position
from localrun.esm.processor import ShardProcessor
from localrun.esm.records import PendingRecord
from localrun.esm.shards import ShardInfo, ShardReader

ProcessorFactory = Callable[[str, Callable[[str], None]], ShardProcessor]
"""Builds the processor of a virtual shard: (its id, what to call with each checkpoint)."""

Shape = Callable[[Mapping[str, Any]], PendingRecord]


class SourceShard:
    def __init__(
        self,
        *,
        info: ShardInfo,
        reader: ShardReader,
        layout: ShardLayout,
        checkpoints: CheckpointStore,
        mapping_key: str,
        new_processor: ProcessorFactory,
        partition_key: str | None,
        now: float,
    ) -> None:
        self.info = info
        self.reader = reader
        self._layout = layout
        self._checkpoints = checkpoints
        self._key = mapping_key
        self._new_processor = new_processor
        self._partition_key = partition_key
        self._lock = threading.Lock()
        finished = checkpoints.finished_shards(mapping_key)
        done = {
            shard_id: int(position)
            for shard_id in layout.ids
            if (position := checkpoints.position(mapping_key, shard_id)) is not None
        }
        self._lowwater = LowWater(done)
        self.lanes: dict[str, Lane] = {}
        for shard in layout.shards:
            if shard.shard_id in finished:
                self._lowwater.finish(shard.shard_id)
            else:
                self._add_lane(shard.shard_id)
        self._closed_at = {shard.shard_id: now for shard in layout.shards if shard.closed}
        self.next_poll = 0.0
        self.read_through: float | None = None
        """Start of the latest poll that found no more records: all created before it were read."""
        self.last_read: int | None = None
        """Sequence number of the last record read (``None``: none read yet)."""

    @property
    def shard_id(self) -> str:
        return self.info.shard_id

    @property
    def layout(self) -> ShardLayout:
        return self._layout

    def _add_lane(self, shard_id: str) -> None:
        checkpointed = functools.partial(self._checkpointed, shard_id)
        self.lanes[shard_id] = Lane(self._new_processor(shard_id, checkpointed))

    def _checkpointed(self, shard_id: str, sequence_number: str) -> None:
        """A virtual shard's checkpoint moved (called from its lane's thread)."""
        self._checkpoints.advance(self._key, shard_id, sequence_number)
        if self._layout.single:
            return  # the virtual shard is the stream shard: its checkpoint is the low-water mark
        with self._lock:
            mark = self._lowwater.done(shard_id, int(sequence_number))
        if mark is not None:
            self._checkpoints.advance(self._key, self.shard_id, mark)

    # --- the poller's side --------------------------------------------------------------------

    def poll(self, limit: int, shape: Shape, *, now: float) -> None:
        """Read the next page of the stream shard and deliver each record to its virtual shard."""
        result = self.reader.read(limit)
        records = [shape(raw) for raw in result.records]
        routed: dict[str, list[PendingRecord]] = {}
        with self._lock:
            layout = self._layout
            for record in records:
                position = 0 if layout.single else record_position(record.event, self._partition_key)
                shard_id = layout.route(position, record.sequence)
                # False: a finished shard, or a record its checkpoint covers (read again after a restart).
                if self._lowwater.read(shard_id, record.sequence, record.sequence_number):
                    routed.setdefault(shard_id, []).append(record)
            if records:
                self.last_read = records[-1].sequence
            for shard_id, batch in routed.items():
                self.lanes[shard_id].deliver(batch, now=now)
        if len(records) < limit:
            self.read_through = now  # everything created before this poll began has been read

    def split(self, shard_id: str, *, after: int | None, now: float) -> list[str]:
        """Close ``shard_id`` after sequence number ``after`` (default: the last record read)."""
        with self._lock:
            # Records already delivered to the parent are the parent's: the point is never before them.
            point = max(after or 0, self.last_read or 0)
            self._layout = self._layout.split(shard_id, after=point)
            children = [child.shard_id for child in self._layout.children(shard_id)]
            for child in children:
                self._add_lane(child)
            self._closed_at[shard_id] = now
        self._checkpoints.record_split(self._key, shard_id, str(point))
        return children

    def _read_past(self, shard: VirtualShard) -> bool:
        """Every record up to the shard's split point has been read (and so delivered)."""
        assert shard.split_after is not None
        if self.last_read is not None and self.last_read >= shard.split_after:
            return True
        # A poll begun after the split read everything there was, the split point included.
        return self.read_through is not None and self.read_through >= self._closed_at[shard.shard_id]

    def mark_ends(self) -> None:
        """Tell lanes that will get no more records: all of them once the stream shard has ended."""
        ended = self.reader.ended
        with self._lock:
            for shard_id, lane in self.lanes.items():
                shard = self._layout.shard(shard_id)
                if ended or (shard.closed and self._read_past(shard)):
                    lane.end()

    def ready_lanes(self) -> list[Lane]:
        """Lanes that may run now: their parent (if any) has finished."""
        with self._lock:
            finished = set(self._layout.ids) - set(self.lanes)
            return [self.lanes[shard_id] for shard_id in self._layout.ready(finished)]

    def settle(self) -> bool:
        """Finish the lanes that are done (their children may start); ``True`` if any finished."""
        settled = False
        with self._lock:
            lanes = list(self.lanes.items())
        for shard_id, lane in lanes:
            if not lane.finished:
                continue
            self._checkpoints.finish(self._key, shard_id)
            with self._lock:
                mark = self._lowwater.finish(shard_id)
                del self.lanes[shard_id]
            if mark is not None and not self._layout.single:
                self._checkpoints.advance(self._key, self.shard_id, mark)
            settled = True
        return settled

    @property
    def done(self) -> bool:
        """The stream shard has ended and each of its virtual shards has finished."""
        return self.reader.ended and not self.lanes

    def _lanes(self) -> list[Lane]:
        with self._lock:  # a split (another thread) may add lanes meanwhile
            return list(self.lanes.values())

    @property
    def buffered(self) -> int:
        return sum(lane.queued for lane in self._lanes())

    @property
    def busy(self) -> bool:
        return any(not lane.idle for lane in self._lanes())
