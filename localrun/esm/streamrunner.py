"""Run event source mappings in background threads, one per mapping, while stdout is routed to the
invocations; split a virtual shard in all of them at once; wait until they have caught up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from localrun.esm.runner import EventSourceMapping
from localrun.invoke.capture import OutputRouter


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

    def split(self, shard_id: str) -> list[str]:
        """Split virtual shard ``shard_id`` in every mapping, as a shard split affects every reader
        of a stream: at the last record any of them has read (a mapping that has read less sends
        the records up to that point to the parent when it reads them). Returns the children's ids.
        """
        positions = [mapping.read_position(shard_id) for mapping in self.mappings]
        point = max((p for p in positions if p is not None), default=None)
        children: list[str] = []
        for mapping in self.mappings:
            children = mapping.split(shard_id, after=point)
        return children

    def wait_caught_up(self, *, since: float | None = None, timeout: float = 60.0, poll: float = 0.1) -> bool:
        """Wait until every mapping has processed what was written before ``since`` (default: now)."""
        mark = time.time() if since is None else since
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(mapping.caught_up(mark) for mapping in self.mappings):
                return True
            time.sleep(poll)
        return False
