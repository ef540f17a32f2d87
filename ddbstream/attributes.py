"""DynamoDB AttributeValue maps as the low-level boto3 client takes them.

Conversion table (Lambda event JSON -> what this module returns -> what boto3 sends):

======  ==========================  ==========================  ==================
tag     Lambda event                in memory (boto3 client)    on the wire
======  ==========================  ==========================  ==================
S       str                         str                         str
N       str (exact decimal text)    str, never a float          str
B       base64 str                  bytes                       base64 str
SS/NS   list[str]                   list[str]                   list[str]
BS      list[base64 str]            list[bytes]                 list[base64 str]
M / L   dict / list of values       dict / list of values       dict / list
BOOL    bool                        bool                        bool
NULL    true                        True                        true
======  ==========================  ==========================  ==================

Numbers stay decimal text from end to end, so 38-digit values and binary payloads arrive in the
replica byte-identical. Validation errors name the attribute path and the problem, never a value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ddbstream.errors import MalformedRecord

AttributeValue = dict[str, Any]
Item = Mapping[str, AttributeValue]

SCALAR_TAGS = frozenset({"S", "N", "B", "BOOL", "NULL"})
SET_TAGS = frozenset({"SS", "NS", "BS"})
TYPE_TAGS = SCALAR_TAGS | SET_TAGS | {"M", "L"}
# DynamoDB allows 32 levels of nesting in documents; the top-level item is level 0.
MAX_NESTING = 32


def _decode_b64(text: object, path: str) -> bytes:
    if isinstance(text, (bytes, bytearray)):
        # Already binary: boto3's get_records hands bytes back. Accept it as is.
        return bytes(text)
    if not isinstance(text, str):
        raise MalformedRecord(f"{path}: binary value is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedRecord(f"{path}: binary value is not valid base64") from exc


def _value_from_event(value: object, path: str, depth: int) -> AttributeValue:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise MalformedRecord(f"{path}: an AttributeValue must be an object with exactly one type tag")
    ((tag, inner),) = value.items()
    if tag not in TYPE_TAGS:
        raise MalformedRecord(f"{path}: unknown AttributeValue type tag {tag!r}")
    if tag in ("S", "N"):
        if not isinstance(inner, str):
            raise MalformedRecord(f"{path}: {tag} value must be a string")
        return {tag: inner}
    if tag == "B":
        return {"B": _decode_b64(inner, path)}
    if tag == "BOOL":
        if not isinstance(inner, bool):
            raise MalformedRecord(f"{path}: BOOL value must be true or false")
        return {"BOOL": inner}
    if tag == "NULL":
        if inner is not True:
            raise MalformedRecord(f"{path}: NULL value must be true")
        return {"NULL": True}
    if tag in SET_TAGS:
        if not isinstance(inner, list):
            raise MalformedRecord(f"{path}: {tag} value must be a list")
        if tag == "BS":
            return {"BS": [_decode_b64(member, path) for member in inner]}
        if not all(isinstance(member, str) for member in inner):
            raise MalformedRecord(f"{path}: {tag} members must be strings")
        return {tag: list(inner)}
    if depth >= MAX_NESTING:
        raise MalformedRecord(f"{path}: nested deeper than DynamoDB's {MAX_NESTING} levels")
    if tag == "M":
        if not isinstance(inner, Mapping):
            raise MalformedRecord(f"{path}: M value must be an object")
        return {"M": _map_from_event(inner, path, depth + 1)}
    if not isinstance(inner, list):
        raise MalformedRecord(f"{path}: L value must be a list")
    return {"L": [_value_from_event(member, f"{path}[{i}]", depth + 1) for i, member in enumerate(inner)]}


def _map_from_event(raw: Mapping[Any, Any], path: str, depth: int) -> dict[str, AttributeValue]:
    out: dict[str, AttributeValue] = {}
    for name, value in raw.items():
        if not isinstance(name, str):
            raise MalformedRecord(f"{path}: attribute names must be strings")
        out[name] = _value_from_event(value, f"{path}.{name}" if path else name, depth)
    return out


def item_from_event(raw: object, what: str) -> dict[str, AttributeValue]:
    """Validate an image or key map from a Lambda event and return it in boto3 client form."""
    if not isinstance(raw, Mapping):
        raise MalformedRecord(f"{what} must be an object of attribute values")
    return _map_from_event(raw, "", 0) if raw else {}


def _base64(data: bytes | str) -> str:
    # Text is taken to be base64 already (the wire form), so either form of an item can be shaped.
    return data if isinstance(data, str) else base64.b64encode(data).decode("ascii")


def _value_to_event(value: AttributeValue) -> AttributeValue:
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": _base64(inner)}
    if tag == "BS":
        return {"BS": [_base64(member) for member in inner]}
    if tag == "M":
        return {"M": item_to_event(inner)}
    if tag == "L":
        return {"L": [_value_to_event(member) for member in inner]}
    return {tag: inner}


def item_to_event(item: Item) -> dict[str, AttributeValue]:
    """The inverse of :func:`item_from_event`: binary values become base64 text, as in Lambda events."""
    return {name: _value_to_event(value) for name, value in item.items()}


def primary_key(item: Mapping[str, Any], key_names: Iterable[str]) -> dict[str, AttributeValue]:
    """The key attributes of an item (KeyError when the item lacks one)."""
    return {name: item[name] for name in key_names}


def key_id(keys: Item) -> str:
    """The identity of a primary key as text: canonical (attribute names sorted, type tags included),
    deterministic, and the same whether binary values come as bytes or as base64 text.

    :func:`key_hash` digests it for state rows, so this text must never change for a key.
    """
    return json.dumps(item_to_event(keys), sort_keys=True, separators=(",", ":"))


def key_hash(keys: Item) -> str:
    """A short digest of a primary key, for log lines and state rows that must not hold key values."""
    return hashlib.sha256(key_id(keys).encode("utf-8")).hexdigest()[:32]


def _number_size(text: str) -> int:
    mantissa = text.lstrip("-").lower().split("e", 1)[0]
    digits = mantissa.replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def _value_size(value: AttributeValue) -> int:
    ((tag, inner),) = value.items()
    if tag == "S":
        return len(inner.encode("utf-8"))
    if tag == "N":
        return _number_size(inner)
    if tag == "B":
        return len(inner)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(len(member.encode("utf-8")) for member in inner)
    if tag == "NS":
        return sum(_number_size(member) for member in inner)
    if tag == "BS":
        return sum(len(member) for member in inner)
    if tag == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + _value_size(member) for name, member in inner.items())
    return 3 + sum(1 + _value_size(member) for member in inner)


def item_size_bytes(item: Item) -> int:
    """DynamoDB's documented item-size rule: attribute name bytes plus value sizes.

    Numbers cost one byte per two significant digits plus one; lists and maps cost three bytes
    plus one per element. This is what counts against the 400 KB item limit.
    """
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())
