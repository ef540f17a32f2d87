"""DynamoDB value equality as the usage metrics compare old and new images."""

from __future__ import annotations

import pytest

from ddbstream.values import values_equal


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        pytest.param({"N": "1.0"}, {"N": "1"}, True, id="number-by-value"),
        pytest.param({"N": "1"}, {"S": "1"}, False, id="type-matters"),
        pytest.param({"SS": ["a", "b"]}, {"SS": ["b", "a"]}, True, id="set-order"),
        pytest.param({"NS": ["1", "2.0"]}, {"NS": ["2", "1"]}, True, id="number-set"),
        pytest.param(
            {"L": [{"S": "a"}, {"S": "b"}]}, {"L": [{"S": "b"}, {"S": "a"}]}, False, id="list-order"
        ),
        pytest.param({"M": {"x": {"N": "5"}}}, {"M": {"x": {"N": "5.00"}}}, True, id="nested-map"),
        pytest.param({"M": {"x": {"N": "5"}}}, {"M": {"y": {"N": "5"}}}, False, id="map-keys"),
        pytest.param({"B": b"\x00"}, {"B": b"\x01"}, False, id="binary"),
    ],
)
def test_values_equal_follows_dynamodb_semantics(a, b, equal):
    assert values_equal(a, b) is equal
