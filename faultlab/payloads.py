"""Item contents for the fault-injection suite: awkward data, and planted privacy sentinels.

Both are :data:`faultlab.sequenced.Decorate` functions: extra attributes for each whole-item write
of the sequenced workload.

* :func:`awkward`: what a replicator gets wrong when it converts values instead of copying them:
  38-digit numbers and extreme exponents, binary and binary sets with every byte value, 32 levels of
  nesting (DynamoDB's limit), empty strings and empty lists and maps in non-key attributes, and
  attribute names that are DynamoDB reserved words.
* :class:`Sentinels`: unique values planted in every kind of non-key attribute (string, number,
  binary, sets, nested); the privacy scenario then searches every log line, metric, message and
  report for them.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from typing import Any

RESERVED_WORDS = ("name", "status", "size", "data", "year", "comment", "select", "table", "user", "count")
MAX_DEPTH = 32


def nested(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    """An attribute value ``depth`` levels deep (maps within maps, ending in ``leaf``)."""
    value = leaf
    for level in range(depth - 1):
        value = {"M": {f"l{depth - 1 - level}": value}} if level % 2 else {"L": [value]}
    return value


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(count - 1))


def awkward(name: str, seq: int, rng: random.Random) -> dict[str, Any]:
    """Values that only survive replication if they are copied, never converted."""
    word = rng.choice(RESERVED_WORDS)
    return {
        "exact38": {"N": _digits(rng, 38)},
        "negative38": {"N": f"-{_digits(rng, 1)}.{_digits(rng, 37)}E+125"},
        "tiny": {"N": f"{_digits(rng, 1)}.{_digits(rng, 20)}E-130"},
        "numbers": {"NS": sorted({_digits(rng, 38), "0.1", f"-{seq}"})},
        "bin": {"B": rng.randbytes(32) + bytes(range(256))},
        "bins": {"BS": [b"\x00", b"\xff\xfe\x00", rng.randbytes(8)]},
        "strings": {"SS": ["\u00e9\u4e2d\U0001f600", "tab\there", f"s{seq}"]},
        "deep": nested(MAX_DEPTH, {"S": f"leaf-{seq}"}),
        "empty_string": {"S": ""},
        "empty_list": {"L": []},
        "empty_map": {"M": {}},
        "mixed": {
            "L": [
                {"NULL": True},
                {"BOOL": False},
                {"M": {"e": {"S": ""}, "l": {"L": []}}},
                {"L": [{"L": []}]},
            ]
        },
        word: {"S": f"reserved word {word!r} as an attribute name"},
    }


def _sentinel_text() -> str:
    return f"SENTINEL-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Sentinels:
    """Unique values planted in items; :attr:`all` is what must never appear anywhere else."""

    text: str = field(default_factory=_sentinel_text)
    nested_text: str = field(default_factory=_sentinel_text)
    set_member: str = field(default_factory=_sentinel_text)
    number: str = field(default_factory=lambda: "7" + "".join(str(secrets.randbelow(10)) for _ in range(29)))
    binary: bytes = field(default_factory=lambda: b"SENTINEL-BYTES-" + secrets.token_bytes(12))

    @property
    def all(self) -> tuple[str | bytes, ...]:
        return (self.text, self.nested_text, self.set_member, self.number, self.binary)

    def __call__(self, name: str, seq: int, rng: random.Random) -> dict[str, Any]:
        return {
            "email": {"S": self.text},
            "profile": {"M": {"ssn": {"S": self.nested_text}, "pin": {"N": self.number}}},
            "aliases": {"SS": [self.set_member, f"alias-{seq}"]},
            "secret": {"B": self.binary},
            "history": {"L": [{"S": self.text}, {"BS": [self.binary]}]},
        }
