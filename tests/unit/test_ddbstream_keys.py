"""The identity of a primary key (``key_id``, ``key_hash``) and the key part of an item (``primary_key``)."""

from __future__ import annotations

from typing import Any

import pytest

from ddbstream import key_hash, key_id, primary_key

KEY: dict[str, dict[str, Any]] = {"user_id": {"S": "u1"}, "timestamp": {"N": "1"}, "blob": {"B": b"\x00\xff"}}


def test_the_key_hash_of_a_key_never_changes():
    # Tombstones in the state table are named after key_hash: a new text would orphan them all.
    assert key_id(KEY) == '{"blob":{"B":"AP8="},"timestamp":{"N":"1"},"user_id":{"S":"u1"}}'
    assert key_hash(KEY) == "6ca60242d8cc46b35be08901bd60a36f"


def test_a_key_has_one_identity_whether_binary_comes_as_bytes_or_base64_text():
    # GIVEN the same key as boto3 returns it and as a request body or Lambda event carries it
    wire = {**KEY, "blob": {"B": "AP8="}}
    # THEN both forms are one key
    assert key_id(wire) == key_id(KEY)
    assert key_id({"k": {"BS": ["AA=="]}}) == key_id({"k": {"BS": [b"\x00"]}})


def test_the_identity_does_not_depend_on_attribute_order():
    assert key_id(dict(reversed(KEY.items()))) == key_id(KEY)


def test_primary_key_takes_the_key_attributes_of_an_item():
    item = {**KEY, "plan": {"S": "pro"}}
    assert primary_key(item, ("user_id", "timestamp")) == {"user_id": {"S": "u1"}, "timestamp": {"N": "1"}}
    with pytest.raises(KeyError, match="missing"):
        primary_key(item, ("missing",))
