"""The version scheme: a stream sequence number, zero-padded to a fixed width.

DynamoDB compares strings by their UTF-8 bytes, so fixed-width decimal text compares exactly as
the integers it encodes; a number type would not do, as sequence numbers reach 40 digits and
DynamoDB numbers keep 38. Sequence numbers are compared as integers everywhere in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from replicator.core.schema import VERSION_ATTRIBUTE, VERSION_WIDTH

ZERO = "0" * VERSION_WIDTH


def encode(sequence: int) -> str:
    """The version text for a sequence number; raises ValueError when it cannot be represented."""
    if sequence < 0:
        raise ValueError("sequence numbers are never negative")
    text = str(sequence)
    if len(text) > VERSION_WIDTH:
        raise ValueError(f"sequence number has more than {VERSION_WIDTH} digits")
    return text.zfill(VERSION_WIDTH)


def decode(version: str) -> int:
    """The sequence number a version text encodes."""
    if len(version) != VERSION_WIDTH or not version.isascii() or not version.isdigit():
        raise ValueError(f"not a replicator version (expected {VERSION_WIDTH} digits)")
    return int(version)


def stored_version(item: Mapping[str, Any] | None) -> str | None:
    """The ``repl:version`` of a replica item or state row, or None when absent."""
    if not item:
        return None
    value = item.get(VERSION_ATTRIBUTE)
    return value.get("S") if isinstance(value, Mapping) else None
