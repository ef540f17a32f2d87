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


class EmissionError(MetricsError, RuntimeError):
    """A metric document would break the catalogue or an EMF limit: a bug, never bad input."""
