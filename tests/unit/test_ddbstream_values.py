"""DynamoDB value equality (``ddbstream.values``): the one rule the usage metrics and the check share."""

from __future__ import annotations

import base64
import decimal
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream.values import canonical, differing_attributes, fingerprint, values_equal

# ---------------------------------------------------------------------------------------------
# Where the metrics' and the check's former copies of the rule disagreed: each case is what the
# shared rule now says, with what each copy said before.


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        # metrics: equal; check: different (it normalised "-0" to "-0" and "0" to "0")
        pytest.param({"N": "-0"}, {"N": "0"}, True, id="negative-zero-is-zero"),
        pytest.param({"N": "-0.00"}, {"N": "0E+5"}, True, id="zeros-in-any-form"),
        # metrics: different; check: equal (it rounded to 40 significant digits)
        pytest.param(
            {"N": "1234567890123456789012345678901234567890123"},
            {"N": "1234567890123456789012345678901234567890124"},
            False,
            id="exact-past-forty-digits",
        ),
        # metrics: equal (a set); check: different (a sorted list, repeats kept)
        pytest.param({"NS": ["1", "1.0"]}, {"NS": ["1"]}, True, id="number-set-repeats"),
        pytest.param({"SS": ["a", "a"]}, {"SS": ["a"]}, True, id="string-set-repeats"),
        # metrics: different (Decimal NaN is never equal); check: equal
        pytest.param({"N": "NaN"}, {"N": "NaN"}, True, id="not-a-number-as-text"),
        pytest.param({"N": "NaN"}, {"N": "nan"}, False, id="not-a-number-text-differs"),
        # metrics: different (bytes never equal text); check: raised TypeError on base64 text
        pytest.param({"B": b"\x00\xff"}, {"B": "AP8="}, True, id="binary-bytes-and-base64"),
        pytest.param({"BS": [b"\x01", "AA=="]}, {"BS": ["AQ==", b"\x00"]}, True, id="binary-set-mixed-forms"),
        pytest.param({"B": "not base64!"}, {"B": "not base64!"}, True, id="invalid-base64-as-text"),
        pytest.param({"B": "%%"}, {"B": b"%%"}, False, id="invalid-base64-is-not-its-bytes"),
    ],
)
def test_the_shared_rule_settles_where_the_two_copies_disagreed(a, b, equal):
    assert values_equal(a, b) is equal
    assert values_equal(b, a) is equal
    assert (fingerprint({"x": a}) == fingerprint({"x": b})) is equal


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        pytest.param({"N": "100"}, {"N": "1E+2"}, True, id="exponent-form"),
        pytest.param({"N": "+1"}, {"N": "1.000"}, True, id="sign-and-trailing-zeros"),
        pytest.param({"N": "0.10"}, {"N": "1e-1"}, True, id="fraction"),
        pytest.param({"N": "1"}, {"N": "-1"}, False, id="sign-matters"),
        pytest.param({"S": "1"}, {"N": "1"}, False, id="type-tag-matters"),
        pytest.param({"SS": ["a"]}, {"BS": [b"a"]}, False, id="set-type-matters"),
        pytest.param({"BOOL": True}, {"BOOL": False}, False, id="boolean"),
        pytest.param({"NULL": True}, {"NULL": True}, True, id="null"),
        pytest.param(
            {"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]}, False, id="list-order"
        ),
        pytest.param({"L": [{"N": "1"}]}, {"L": [{"N": "1"}, {"N": "1"}]}, False, id="list-length"),
        pytest.param(
            {"M": {"a": {"L": [{"NS": ["2", "1"]}]}, "b": {"B": b"\x00"}}},
            {"M": {"b": {"B": "AA=="}, "a": {"L": [{"NS": ["1.0", "2"]}]}}},
            True,
            id="nested-documents",
        ),
        pytest.param(
            {"M": {"a": {"S": "x"}}}, {"M": {"a": {"S": "x"}, "b": {"NULL": True}}}, False, id="map-names"
        ),
    ],
)
def test_values_compare_as_dynamodb_compares_them(a, b, equal):
    assert values_equal(a, b) is equal
    assert (canonical(a) == canonical(b)) is equal


def test_differing_attributes_names_what_differs_or_is_on_one_side_only():
    # GIVEN two items that agree on "same" (in different forms) and disagree on the rest
    a = {"same": {"N": "1.0"}, "changed": {"S": "x"}, "only_a": {"S": "y"}}
    b = {"same": {"N": "1"}, "changed": {"S": "z"}, "only_b": {"S": "y"}}
    # THEN the names, sorted, are what differ; never a value
    assert differing_attributes(a, b) == ("changed", "only_a", "only_b")
    assert differing_attributes(a, a) == ()


# ---------------------------------------------------------------------------------------------
# Properties over generated values.

NUMBERS = st.builds(
    lambda coefficient, exponent: Decimal(f"{coefficient}E{exponent}"),
    st.integers(-(10**38) + 1, 10**38 - 1),
    st.integers(-130, 125),
)


def spellings(number: Decimal) -> list[str]:
    """Texts DynamoDB accepts for one number: plain, scientific, normalised, with a trailing zero."""
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    padded = Decimal((sign, (*digits, 0), exponent - 1))
    return [str(number), f"{number:E}", f"{number:e}", str(number.normalize(_WIDE)), str(padded)]


_WIDE = decimal.Context(prec=60)


@given(NUMBERS, NUMBERS)
def test_numbers_are_equal_exactly_when_their_values_are(a, b):
    for text_a in spellings(a):
        assert values_equal({"N": text_a}, {"N": str(b)}) is (a == b)


@given(NUMBERS)
def test_every_spelling_of_a_number_is_one_value(number):
    texts = spellings(number)
    assert len({canonical({"N": text}) for text in texts}) == 1


SCALARS = st.one_of(
    st.text(max_size=4).map(lambda s: {"S": s}),
    NUMBERS.map(lambda n: {"N": str(n)}),
    st.binary(max_size=4).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.sets(st.text(max_size=3), min_size=1, max_size=4).map(lambda s: {"SS": list(s)}),
    st.sets(NUMBERS, min_size=1, max_size=4).map(lambda s: {"NS": [str(n) for n in s]}),
    st.sets(st.binary(max_size=3), min_size=1, max_size=4).map(lambda s: {"BS": list(s)}),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda items: {"L": items}),
        st.dictionaries(st.text(max_size=3), children, max_size=4).map(lambda m: {"M": m}),
    ),
    max_leaves=12,
)


def respelled(value: dict[str, Any]) -> dict[str, Any]:
    """The same DynamoDB value written differently: sets and maps reordered, numbers and binary
    in another form (as Lambda's JSON or an export would carry them)."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return {"N": f"{Decimal(inner):E}"}
    if tag == "B":
        return {"B": base64.b64encode(inner).decode()}
    if tag == "SS":
        return {"SS": list(reversed(inner))}
    if tag == "NS":
        return {"NS": [f"{Decimal(n):E}" for n in reversed(inner)]}
    if tag == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in reversed(inner)]}
    if tag == "M":
        return {"M": {name: respelled(inner[name]) for name in reversed(list(inner))}}
    if tag == "L":
        return {"L": [respelled(member) for member in inner]}
    return value


@given(VALUES)
def test_a_value_equals_itself_written_any_other_way(value):
    other = respelled(value)
    assert values_equal(value, other)
    assert fingerprint({"x": value}) == fingerprint({"x": other})


@given(VALUES, VALUES)
def test_equality_is_symmetric_and_agrees_with_the_fingerprint(a, b):
    assert values_equal(a, b) is values_equal(b, a)
    assert values_equal(a, b) is (fingerprint({"x": a}) == fingerprint({"x": b}))


@given(st.lists(VALUES, min_size=2, max_size=4, unique_by=canonical))
def test_list_order_matters_when_elements_differ(members):
    assert not values_equal({"L": members}, {"L": list(reversed(members))})
