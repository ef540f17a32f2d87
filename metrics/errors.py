"""Errors of the usage-metrics consumer. None of them ever quotes an item's contents."""

from __future__ import annotations


class MetricsError(Exception):
    """Base class of every error raised by the metrics consumer."""


class SettingsError(MetricsError, ValueError):
    """An environment variable is invalid; the message names the variable and the expected form."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"environment variable {variable}: {problem}")


class WindowStateError(MetricsError, ValueError):
    """The tumbling-window state handed back by Lambda cannot be read (wrong version or corrupted)."""


class UsageDataError(MetricsError, ValueError):
    """An item of the usage table cannot be read (corrupted, or written by an unknown version)."""


class UsageStoreError(MetricsError, RuntimeError):
    """The usage table refused or failed a write after retries; the message names the item's key."""


class MergeRequestError(MetricsError, ValueError):
    """The merge function's event asks for something it cannot do (the message says what)."""


class EmissionError(MetricsError, RuntimeError):
    """A metric document would break the catalogue or an EMF limit: a bug, never bad input."""
