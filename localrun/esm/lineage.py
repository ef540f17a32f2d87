"""Virtual shards of one stream shard: hash ranges, ids, lineage and splits (pure).

A layout starts with ``count`` virtual shards that divide the hash space evenly (see
``partition.py``). Splitting one *closes* it at a sequence number: records up to that number stay
with the parent, later ones go to the child whose half of the parent's range holds their position,
as when DynamoDB splits a partition and its stream shard. A child is processed only once its parent
is finished (:func:`localrun.esm.shards.ready_shards`, the rule the runner applies to the stream's
own shards), so each key's changes stay in order across a split: the parent's first, then the
child's.

Ids. With one virtual shard, the virtual shard *is* the stream shard (same id, same checkpoint), so
``shards=1`` behaves exactly as the runner did before virtual shards; it cannot be split. With
``count`` virtual shards, root ``i`` is ``<stream shard id>/<count>.<i>`` and the children of ``X``
are ``X.0`` (lower half of its range) and ``X.1``: an id names its lineage, and a layout is rebuilt
from the split points the checkpoint store keeps (:meth:`ShardLayout.rebuild`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from localrun.esm.partition import HASH_SPACE
from localrun.esm.shards import ShardInfo, ready_shards


class ShardLayoutError(ValueError):
    """A layout or split that cannot be made; the message names the shard and what to do."""


@dataclass(frozen=True, slots=True)
class VirtualShard:
    shard_id: str
    parent_id: str | None
    low: int
    """First position of its hash range (inclusive)."""
    high: int
    """End of its hash range (exclusive)."""
    split_after: int | None = None
    """Set once split: the last sequence number that is the parent's; later records are its children's."""

    @property
    def closed(self) -> bool:
        return self.split_after is not None

    def covers(self, position: int) -> bool:
        return self.low <= position < self.high


@dataclass(frozen=True, slots=True)
class ShardLayout:
    """The virtual shards of the stream shard ``source_id``, in creation order (roots first)."""

    source_id: str
    shards: tuple[VirtualShard, ...]

    @classmethod
    def even(cls, source_id: str, count: int) -> ShardLayout:
        """``count`` virtual shards over equal parts of the hash space."""
        if count < 1:
            raise ShardLayoutError(f"a stream shard needs at least one virtual shard; got {count}")
        if count == 1:
            return cls(source_id, (VirtualShard(source_id, None, 0, HASH_SPACE),))
        return cls(
            source_id,
            tuple(
                VirtualShard(
                    f"{source_id}/{count}.{i}", None, i * HASH_SPACE // count, (i + 1) * HASH_SPACE // count
                )
                for i in range(count)
            ),
        )

    @classmethod
    def rebuild(cls, source_id: str, count: int, splits: Mapping[str, int]) -> ShardLayout:
        """The layout after the recorded ``splits`` (shard id -> split point); others are ignored."""
        layout = cls.even(source_id, count)
        index = 0
        while index < len(layout.shards):  # children are appended, so they are visited too
            shard = layout.shards[index]
            if not shard.closed and shard.shard_id in splits:
                layout = layout.split(shard.shard_id, after=splits[shard.shard_id])
            index += 1
        return layout

    @property
    def single(self) -> bool:
        """One virtual shard, the stream shard itself: no hashing needed, no split possible."""
        return len(self.shards) == 1

    @property
    def ids(self) -> list[str]:
        return [shard.shard_id for shard in self.shards]

    @property
    def open(self) -> list[VirtualShard]:
        """The shards new records can go to (not split)."""
        return [shard for shard in self.shards if not shard.closed]

    def shard(self, shard_id: str) -> VirtualShard:
        for shard in self.shards:
            if shard.shard_id == shard_id:
                return shard
        raise ShardLayoutError(f"no virtual shard {shard_id!r} in {self.source_id}; it has {self.ids}")

    def children(self, shard_id: str) -> list[VirtualShard]:
        return [shard for shard in self.shards if shard.parent_id == shard_id]

    def split(self, shard_id: str, *, after: int) -> ShardLayout:
        """Close ``shard_id`` after sequence number ``after`` and add its two children."""
        shard = self.shard(shard_id)
        if self.single:
            raise ShardLayoutError(
                f"{shard_id} is the stream's own shard (one virtual shard); run with two or more "
                "virtual shards to split one"
            )
        if shard.closed:
            raise ShardLayoutError(
                f"{shard_id} is already split into {[c.shard_id for c in self.children(shard_id)]}"
            )
        middle = (shard.low + shard.high) // 2
        if middle == shard.low:
            raise ShardLayoutError(f"{shard_id} covers a single hash position and cannot be split")
        closed = replace(shard, split_after=after)
        children = (
            VirtualShard(f"{shard_id}.0", shard_id, shard.low, middle),
            VirtualShard(f"{shard_id}.1", shard_id, middle, shard.high),
        )
        kept = tuple(closed if s.shard_id == shard_id else s for s in self.shards)
        return replace(self, shards=kept + children)

    def route(self, position: int, sequence: int) -> str:
        """The virtual shard of a record: by its key's position, then down the splits it comes after."""
        if self.single:
            return self.shards[0].shard_id
        shard = next(s for s in self.shards if s.parent_id is None and s.covers(position))
        while shard.split_after is not None and sequence > shard.split_after:
            shard = next(c for c in self.children(shard.shard_id) if c.covers(position))
        return shard.shard_id

    def ready(self, finished: Collection[str]) -> list[str]:
        """Shards that may be processed now: unfinished, with no parent or a finished one."""
        infos = [ShardInfo(s.shard_id, s.parent_id, s.closed) for s in self.shards]
        return ready_shards(infos, finished)
