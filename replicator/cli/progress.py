"""A one-line progress bar on standard error, drawn only when it is a terminal (quiet in pipes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import IO

WIDTH = 30
REDRAW_SECONDS = 0.2


class Progress:
    """Counts items; draws ``[#####.....] 1,234 / ~5,000 items  850/s`` at most five times a second.

    ``total`` is DynamoDB's approximate ItemCount (refreshed about every six hours), so the bar is
    an estimate and may finish early or late; the count itself is exact.
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        label: str,
        total: int | None = None,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        self.total = total
        self.enabled = stream.isatty() if enabled is None else enabled
        self.count = 0
        self._clock = clock
        self._started = clock()
        self._drawn = 0.0
        self._lock = threading.Lock()

    def advance(self, items: int) -> None:
        with self._lock:
            self.count += items
            now = self._clock()
            if self.enabled and now - self._drawn >= REDRAW_SECONDS:
                self._drawn = now
                self._stream.write("\r" + self.line(now))
                self._stream.flush()

    def line(self, now: float) -> str:
        rate = self.count / max(now - self._started, 1e-9)
        if self.total:
            done = min(1.0, self.count / self.total)
            bar = "#" * int(done * WIDTH)
            return f"{self._label} [{bar:<{WIDTH}}] {self.count:,} / ~{self.total:,} items  {rate:,.0f}/s"
        return f"{self._label} {self.count:,} items  {rate:,.0f}/s"

    def close(self) -> None:
        if self.enabled:
            self._stream.write("\r" + self.line(self._clock()) + "\n")
            self._stream.flush()
