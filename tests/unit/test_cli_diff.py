"""The check's comparison rules and its pairing of two scans, without any AWS."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream.values import canonical_item, fingerprint
from replicator.cli.diff import Matcher
from replicator.core.compare import Agreement, Difference, Kind, Origin, Rules, compare, summarise
from tests.support.events import key

RULES = Rules(
    key_names=("user_id", "timestamp"),
    excluded=frozenset({"secret"}),
    ignored=frozenset({"last_seen"}),
    ttl_attribute="expires_at",
)
NOW = 1_800_000_000.0
VERSION = {"repl:version": {"S": "0" * 39 + "7"}}


def item(user, **attributes):
    return {**key(user), **attributes}


@pytest.mark.parametrize(
    ("source", "replica", "verdict"),
    [
        pytest.param(
            item("a", v={"S": "x"}), {**item("a", v={"S": "x"}), **VERSION}, Agreement.SAME, id="same"
        ),
        pytest.param(item("a", v={"S": "x"}), None, Kind.MISSING, id="missing"),
        pytest.param(None, item("a", v={"S": "x"}), Kind.EXTRA, id="extra"),
        pytest.param(item("a", v={"S": "x"}), item("a", v={"S": "y"}), Kind.DIFFERENT, id="different"),
        pytest.param(item("a"), item("a", v={"S": "y"}), Kind.DIFFERENT, id="attribute-only-in-replica"),
        pytest.param(None, None, Agreement.SAME, id="absent-on-both"),
        pytest.param(
            item("a", last_seen={"N": "1"}),
            item("a", last_seen={"N": "2"}),
            Agreement.SAME,
            id="ignored-attribute",
        ),
        pytest.param(item("a", secret={"S": "s"}), item("a"), Agreement.SAME, id="excluded-attribute"),
        pytest.param(
            item("a", **{"aws:rep:updateregion": {"S": "x"}}), item("a"), Agreement.SAME, id="legacy"
        ),
        pytest.param(
            item("a", expires_at={"N": str(int(NOW) - 1)}), None, Agreement.EXPIRED, id="expired-in-source"
        ),
        pytest.param(
            None, item("a", expires_at={"N": str(int(NOW) - 1)}), Agreement.EXPIRED, id="expired-archive-copy"
        ),
        pytest.param(
            item("a", expires_at={"N": str(int(NOW) + 60)}), None, Kind.MISSING, id="ttl-in-the-future"
        ),
        pytest.param(item("a", expires_at={"S": "yesterday"}), None, Kind.MISSING, id="ttl-not-a-number"),
        pytest.param(item("a", **VERSION), item("a"), Kind.UNREPLICABLE, id="reserved-attribute-in-source"),
    ],
)
def test_compare_classifies_one_key(source, replica, verdict):
    outcome = compare(key("a"), source, replica, RULES, NOW)
    if isinstance(outcome, Difference):
        assert outcome.kind is verdict
    else:
        assert outcome is verdict


def test_a_difference_names_the_differing_attributes_never_their_values():
    outcome = compare(
        key("a"),
        item("a", plan={"S": "pro"}, n={"N": "1"}),
        item("a", plan={"S": "free"}, n={"N": "1"}),
        RULES,
        NOW,
    )
    assert isinstance(outcome, Difference)
    assert outcome.attributes == ("plan",)
    assert "pro" not in repr(outcome.attributes) and "free" not in repr(outcome.attributes)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param({"SS": ["x", "y"]}, {"SS": ["y", "x"]}, id="string-set-order"),
        pytest.param({"NS": ["1", "2.50"]}, {"NS": ["2.5", "1.0"]}, id="number-set-order-and-form"),
        pytest.param({"N": "100"}, {"N": "1E+2"}, id="number-form"),
        pytest.param({"BS": [b"\x01", b"\x00"]}, {"BS": [b"\x00", b"\x01"]}, id="binary-set-order"),
        pytest.param(
            {"M": {"b": {"N": "1"}, "a": {"S": "x"}}},
            {"M": {"a": {"S": "x"}, "b": {"N": "1.0"}}},
            id="map-order",
        ),
        pytest.param(
            {"N": "12345678901234567890123456789012345678"},
            {"N": "12345678901234567890123456789012345678.0"},
            id="38-digits",
        ),
    ],
)
def test_equal_values_compare_equal_in_any_form(a, b):
    assert canonical_item({"x": a}) == canonical_item({"x": b})
    assert fingerprint({"x": a}) == fingerprint({"x": b})


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            {"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]}, id="list-order-matters"
        ),
        pytest.param({"S": "1"}, {"N": "1"}, id="type-matters"),
        pytest.param(
            {"N": "12345678901234567890123456789012345678"},
            {"N": "12345678901234567890123456789012345679"},
            id="38th-digit",
        ),
        pytest.param({"B": b"\x00"}, {"B": b"\x01"}, id="binary"),
    ],
)
def test_different_values_compare_different(a, b):
    assert fingerprint({"x": a}) != fingerprint({"x": b})


def test_matcher_pairs_items_in_any_order_and_keeps_only_the_unpaired():
    matcher = Matcher()
    matcher.offer(summarise(Origin.REPLICA, {**item("a", v={"S": "1"}), **VERSION}, RULES, NOW))
    matcher.offer(summarise(Origin.SOURCE, item("b", v={"S": "1"}), RULES, NOW))
    matcher.offer(summarise(Origin.SOURCE, item("a", v={"S": "1"}), RULES, NOW))
    matcher.offer(summarise(Origin.REPLICA, item("c", v={"S": "1"}), RULES, NOW))
    matcher.offer(summarise(Origin.SOURCE, item("d", v={"S": "1"}), RULES, NOW))
    matcher.offer(summarise(Origin.REPLICA, item("d", v={"S": "2"}), RULES, NOW))
    assert len(matcher.pending) == 2  # b and c: what is held is only what is still unpaired
    found = {(d.kind, d.keys["user_id"]["S"]) for d in matcher.candidates()}
    assert found == {(Kind.MISSING, "b"), (Kind.EXTRA, "c"), (Kind.DIFFERENT, "d")}
    assert matcher.stats.matched == 1
    assert (matcher.stats.source_items, matcher.stats.replica_items) == (3, 3)


def test_matcher_counts_expired_items_instead_of_reporting_them():
    gone = {"expires_at": {"N": "1"}}
    matcher = Matcher()
    matcher.offer(summarise(Origin.SOURCE, item("a", **gone), RULES, NOW))
    matcher.offer(summarise(Origin.REPLICA, item("b", **gone), RULES, NOW))
    matcher.offer(summarise(Origin.SOURCE, item("c", **gone, v={"S": "1"}), RULES, NOW))
    matcher.offer(summarise(Origin.REPLICA, item("c", **gone, v={"S": "2"}), RULES, NOW))
    assert matcher.candidates() == []
    assert matcher.stats.expired == 3


VALUES = st.sampled_from([{"S": "x"}, {"S": "y"}, {"N": "1"}, {"NS": ["1", "2"]}, {"NS": ["2", "1"]}])
TABLE = st.dictionaries(st.sampled_from([f"u{i}" for i in range(12)]), VALUES, max_size=12)


@given(source=TABLE, replica=TABLE, seed=st.integers(0, 2**32))
def test_matcher_finds_exactly_the_keys_a_naive_comparison_finds(source, replica, seed):
    # GIVEN two tables and their items arriving interleaved in any order
    arrivals = [(Origin.SOURCE, item(u, v=v)) for u, v in source.items()]
    arrivals += [(Origin.REPLICA, {**item(u, v=v), **VERSION}) for u, v in replica.items()]
    random.Random(seed).shuffle(arrivals)
    matcher = Matcher()
    for origin, each in arrivals:
        matcher.offer(summarise(origin, each, RULES, NOW))
    # THEN the candidates are exactly what comparing both maps in memory gives
    expected = set()
    for user in source.keys() | replica.keys():
        outcome = compare(
            key(user),
            item(user, v=source[user]) if user in source else None,
            item(user, v=replica[user]) if user in replica else None,
            RULES,
            NOW,
        )
        if isinstance(outcome, Difference):
            expected.add((outcome.kind, user))
    assert {(d.kind, d.keys["user_id"]["S"]) for d in matcher.candidates()} == expected
