"""How far a stream shard is done while its records are spread over virtual shards (pure).

Each virtual shard checkpoints its own records, but the stream shard is read once for all of them,
so a restarted runner may only resume reading it after a record that *every* virtual shard is done
with: the *low-water mark*, the last record read before the earliest one not yet done. Records it
reads again after the mark are skipped by the virtual shards whose own checkpoint covers them, so a
restart loses nothing and repeats only what Lambda would repeat (an unfinished window).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping


class LowWater:
    """Records read, in stream order, until each one's virtual shard is done with it."""

    def __init__(self, done: Mapping[str, int] | None = None) -> None:
        # Sequence numbers have 20 digits and more: ints, never floats.
        self._done: dict[str, int] = dict(done or {})
        self._finished: set[str] = set()
        self._outstanding: deque[tuple[int, str, str]] = deque()
        self.mark: str | None = None
        """Sequence number of the last record before the first one not done (``None``: none yet)."""

    def is_done(self, shard_id: str, sequence: int) -> bool:
        return shard_id in self._finished or sequence <= self._done.get(shard_id, -1)

    def read(self, shard_id: str, sequence: int, sequence_number: str) -> bool:
        """Note a record read for ``shard_id``; ``False`` when that shard is done with it already."""
        fresh = not self.is_done(shard_id, sequence)
        self._outstanding.append((sequence, sequence_number, shard_id))
        self._advance()
        return fresh

    def done(self, shard_id: str, sequence: int) -> str | None:
        """``shard_id`` is done with its records up to ``sequence``; the new mark if it moved."""
        self._done[shard_id] = max(self._done.get(shard_id, -1), sequence)
        return self._advance()

    def finish(self, shard_id: str) -> str | None:
        """``shard_id`` takes no more records (finished): whatever is routed to it counts as done."""
        self._finished.add(shard_id)
        return self._advance()

    @property
    def outstanding(self) -> int:
        """Records read whose mark cannot pass yet (theirs or an earlier one is not done)."""
        return len(self._outstanding)

    def _advance(self) -> str | None:
        moved: str | None = None
        while self._outstanding:
            sequence, number, shard_id = self._outstanding[0]
            if not self.is_done(shard_id, sequence):
                break
            self._outstanding.popleft()
            moved = number
        if moved is not None:
            self.mark = moved
        return moved
