"""When two DynamoDB values are the same value: the one rule for the usage metrics (did an attribute
change?), the consistency check (does the replica hold the source's item?) and any later comparison
of exports. Pure; no AWS library.

The rule, as DynamoDB itself compares values (``EQ`` in conditions and queries):

- The type tag counts: ``S "1"`` is not ``N 1``, an ``SS`` is not a ``BS``.
- Numbers compare by value, exactly, at any number of digits: ``1``, ``1.0``, ``+1`` and ``1E+0``
  are one number, and so are ``0`` and ``-0``. Text that is not a finite decimal (DynamoDB never
  stores one) compares as text.
- Sets (``SS``, ``NS``, ``BS``) compare as sets: member order and repeats do not matter.
- Binary compares the bytes, whichever form holds them: ``bytes`` (boto3, parsed stream records) or
  base64 text (Lambda's event JSON, exports). Text that is not valid base64 compares as text.
- Maps compare name by name, in any order; lists compare element by element, in order.

:func:`canonical` turns a value into a form that is equal exactly when the values are, hashable and
JSON-serialisable; :func:`fingerprint` digests a whole item's canonical form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from ddbstream.attributes import AttributeValue, Item

Canonical = tuple[str, Any]
"""``(type tag, canonical contents)``: nested tuples of text, booleans and ``True`` (NULL)."""


def canonical_number(text: str) -> str:
    """One text per numeric value: significant digits without trailing zeros, and an exponent."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    if number.is_zero():
        return "0"
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite numbers have an integer exponent
    significant = "".join(map(str, digits)).lstrip("0")
    stripped = significant.rstrip("0")
    exponent += len(significant) - len(stripped)
    return f"{'-' if sign else ''}{stripped}E{exponent}"


def canonical_binary(data: bytes | bytearray | str) -> str:
    """Base64 text of the bytes, whether they come as bytes or as base64 text."""
    if isinstance(data, str):
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return data  # not base64: never equal to the canonical text of any bytes
    else:
        raw = bytes(data)
    return base64.b64encode(raw).decode("ascii")


def canonical(value: AttributeValue) -> Canonical:
    """A form of ``value`` that is equal for exactly the values DynamoDB holds equal."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return ("N", canonical_number(inner))
    if tag == "B":
        return ("B", canonical_binary(inner))
    if tag == "SS":
        return ("SS", tuple(sorted(set(inner))))
    if tag == "NS":
        return ("NS", tuple(sorted({canonical_number(member) for member in inner})))
    if tag == "BS":
        return ("BS", tuple(sorted({canonical_binary(member) for member in inner})))
    if tag == "M":
        return ("M", canonical_item(inner))
    if tag == "L":
        return ("L", tuple(canonical(member) for member in inner))
    return (tag, inner)  # S, BOOL, NULL: compared as they are


def canonical_item(item: Item) -> tuple[tuple[str, Canonical], ...]:
    """An item's (or a map's) canonical form: its attributes in name order."""
    return tuple((name, canonical(item[name])) for name in sorted(item))


def values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    """Whether two AttributeValues are the same DynamoDB value."""
    return a == b or canonical(a) == canonical(b)


def differing_attributes(a: Item, b: Item) -> tuple[str, ...]:
    """The names (never the values) of the attributes two items do not share equal, sorted."""
    return tuple(
        sorted(
            name
            for name in set(a) | set(b)
            if name not in a or name not in b or not values_equal(a[name], b[name])
        )
    )


def fingerprint(item: Item) -> bytes:
    """A 16-byte digest, equal for equal items: what a comparison keeps per unpaired item."""
    text = json.dumps(canonical_item(item), separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
