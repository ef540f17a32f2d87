"""Errors the local runtime reports as one line and exit code 2: each names what the user gave."""

from __future__ import annotations


class LocalRunError(Exception):
    """The demo or the runner cannot go on; the message says which input was wrong and what to do."""
