"""Route what each invocation prints to that invocation.

Handlers print their EMF documents (and any log lines) to stdout, as they do in Lambda where
CloudWatch Logs collects them per function. Stdout is process-global, and several functions run
at once here, so while the runner runs, ``sys.stdout`` is a proxy: text written by a thread that is
collecting goes to that thread's buffer, any other text goes to the real stdout unchanged.

Known limit: lines printed from threads a handler starts itself are not attributed to the
invocation (Python threads have no parent); EMF libraries flush from the handler's own thread.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class _Collector:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def lines(self) -> list[str]:
        return [line for line in "".join(self.parts).splitlines() if line.strip()]


class _RoutedStdout(io.TextIOBase):
    def __init__(self, router: OutputRouter, passthrough: TextIO) -> None:
        self._router = router
        self.passthrough = passthrough

    def write(self, text: str) -> int:
        collector = self._router.collector_for(threading.get_ident())
        if collector is None:
            return self.passthrough.write(text)
        collector.parts.append(text)
        return len(text)

    def flush(self) -> None:
        self.passthrough.flush()

    def isatty(self) -> bool:
        return self.passthrough.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.passthrough, "encoding", "utf-8")


class OutputRouter:
    """Install once (a context manager); each invocation thread collects inside :meth:`collect`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._collectors: dict[int, _Collector] = {}
        self._installed: _RoutedStdout | None = None
        self._depth = 0

    def collector_for(self, ident: int) -> _Collector | None:
        return self._collectors.get(ident)

    @contextmanager
    def installed(self) -> Iterator[OutputRouter]:
        with self._lock:
            if self._depth == 0:
                self._installed = _RoutedStdout(self, sys.stdout)
                sys.stdout = self._installed
            self._depth += 1
        try:
            yield self
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._installed is not None:
                    # Only undo our own replacement: someone may have wrapped stdout after us.
                    if sys.stdout is self._installed:
                        sys.stdout = self._installed.passthrough
                    self._installed = None

    @contextmanager
    def collect(self) -> Iterator[_Collector]:
        """Collect everything the current thread prints until the block ends."""
        ident = threading.get_ident()
        collector = _Collector()
        with self._lock:
            self._collectors[ident] = collector
        try:
            yield collector
        finally:
            with self._lock:
                self._collectors.pop(ident, None)
