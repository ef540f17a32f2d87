"""The shared stream-record view: parsing, validation, Lambda shaping, item size."""

from __future__ import annotations

from typing import Any

import pytest

from ddbstream import MalformedRecord, item_size_bytes, parse_event, parse_record
from ddbstream.attributes import item_from_event, item_to_event
from tests.support.events import record

PLAN = {"plan": {"S": "pro"}}


def test_short_sequence_numbers_compare_as_integers():
    # AWS's own sample events use "111"; real ones have 21 to 40 digits.
    short = parse_record(record(999, attributes=PLAN))
    long = parse_record(record(1000, attributes=PLAN))
    assert short.sequence < long.sequence
    assert short.sequence_number == "999"


def test_ttl_delete_is_recognised_by_its_service_identity():
    ttl = record(111, "REMOVE", ttl_delete=True)
    user = record(111, "REMOVE")
    assert parse_record(ttl).is_ttl_delete
    assert not parse_record(user).is_ttl_delete


def test_every_attribute_type_round_trips_through_event_form():
    image = {
        "s": {"S": ""},
        "n": {"N": "-12345678901234567890123456789012345678E-120"},
        "b": {"B": "AP8="},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "99999999999999999999999999999999999999"]},
        "bs": {"BS": ["AA==", "AQI="]},
        "m": {"M": {"inner": {"L": [{"NULL": True}, {"BOOL": False}]}}},
        "l": {"L": []},
        "null": {"NULL": True},
        "bool": {"BOOL": True},
    }
    parsed = item_from_event(image, "NewImage")
    assert parsed["b"] == {"B": b"\x00\xff"}
    assert parsed["bs"] == {"BS": [b"\x00", b"\x01\x02"]}
    assert parsed["n"] == image["n"]  # numbers stay exact decimal text
    assert item_to_event(parsed) == image


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(depth):
        value = {"M": {"x": value}}
    return value


def test_thirty_two_levels_of_nesting_are_accepted_and_thirty_three_are_not():
    assert item_from_event({"deep": nested(32)}, "NewImage")
    with pytest.raises(MalformedRecord, match="32 levels"):
        item_from_event({"deep": nested(33)}, "NewImage")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        pytest.param(lambda r: r.update(eventName="UPSERT"), "unknown eventName", id="unknown-event"),
        pytest.param(lambda r: r["dynamodb"].pop("Keys"), "Keys", id="missing-keys"),
        pytest.param(lambda r: r["dynamodb"].update(Keys={}), "no Keys", id="empty-keys"),
        pytest.param(lambda r: r["dynamodb"].update(SequenceNumber="12a"), "decimal", id="bad-sequence"),
        pytest.param(lambda r: r["dynamodb"].pop("SequenceNumber"), "SequenceNumber", id="no-sequence"),
        pytest.param(lambda r: r.pop("dynamodb"), "dynamodb", id="no-body"),
        pytest.param(lambda r: r["dynamodb"]["NewImage"].update(x={"Q": "1"}), "type tag", id="bad-tag"),
        pytest.param(lambda r: r["dynamodb"]["NewImage"].update(x={"B": "%%%"}), "base64", id="bad-base64"),
        pytest.param(lambda r: r["dynamodb"]["NewImage"].update(x={"N": 5}), "string", id="number-not-text"),
        pytest.param(
            lambda r: r["dynamodb"].update(ApproximateCreationDateTime="yesterday"), "epoch", id="bad-time"
        ),
    ],
)
def test_malformed_records_are_rejected_with_a_reason_and_no_values(mutate, reason):
    raw = record(111, attributes=PLAN)
    raw["dynamodb"]["NewImage"]["secret"] = {"S": "SENTINEL-PII"}
    mutate(raw)
    with pytest.raises(MalformedRecord, match=reason) as caught:
        parse_record(raw)
    assert "SENTINEL-PII" not in str(caught.value)
    assert "u1" not in str(caught.value)


def test_a_bad_record_is_rejected_alone_and_keeps_its_position_and_sequence_number():
    good = record(100, attributes=PLAN)
    bad = {**record(101, attributes=PLAN), "eventName": "NOPE"}
    batch = parse_event({"Records": [good, bad, record(102, attributes=PLAN)]})
    assert [r.sequence_number for r in batch.records] == ["100", "102"]
    assert [(r.index, r.sequence_number) for r in batch.rejected] == [(1, "101")]


def test_an_event_without_records_is_an_error():
    with pytest.raises(MalformedRecord, match="Records"):
        parse_event({"hello": "world"})


def test_keys_only_records_parse_but_have_no_image_to_replicate():
    keys_only = parse_record(record(111, new_image=None, view_type="KEYS_ONLY"))
    with pytest.raises(MalformedRecord, match="KEYS_ONLY"):
        keys_only.require_new_image()


@pytest.mark.parametrize(
    ("item", "size"),
    [
        pytest.param({"a": {"S": "hello"}}, 1 + 5, id="string"),
        pytest.param({"n": {"N": "123"}}, 1 + 3, id="number-3-digits"),
        pytest.param({"n": {"N": "0.0001200"}}, 1 + 2, id="number-trims-zeros"),
        pytest.param({"b": {"B": b"\x00\x01\x02"}}, 1 + 3, id="binary"),
        pytest.param({"t": {"BOOL": True}, "z": {"NULL": True}}, 2 + 2, id="bool-null"),
        pytest.param({"m": {"M": {"k": {"S": "v"}}}}, 1 + 3 + 1 + 1 + 1, id="map"),
        pytest.param({"l": {"L": [{"S": "ab"}, {"S": "c"}]}}, 1 + 3 + (1 + 2) + (1 + 1), id="list"),
    ],
)
def test_item_size_follows_dynamodbs_documented_rule(item, size):
    assert item_size_bytes(item) == size
