"""The one error of reading an export."""

from __future__ import annotations


class ExportFormatError(ValueError):
    """An export that does not follow AWS's documented layout; the message never quotes an item."""
