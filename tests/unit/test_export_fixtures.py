"""The seeded export pair's truth is what the one comparison rule says: the scan check's pairing
(replicator.cli.diff.Matcher over replicator.core.compare) finds exactly the seeded differences, so
the export check's tests and the scan check's assert the same thing."""

from __future__ import annotations

import random

from ddbstream.attributes import item_from_event
from replicator.cli.diff import Matcher
from replicator.core.compare import Origin, Rules, summarise
from tests.support.exports import EXCLUDED, IGNORED, KEY_NAMES, TTL_ATTRIBUTE, SeededPair, seeded_pair, spread


def matched(pair: SeededPair, rules: Rules) -> tuple[set[tuple[str, str]], Matcher]:
    """Both sides through the scan check's pairing, interleaved as two scans would be."""
    offers = [(Origin.SOURCE, item) for item in pair.source] + [
        (Origin.REPLICA, item) for item in pair.replica
    ]
    random.Random(3).shuffle(offers)
    matcher = Matcher()
    for origin, raw in offers:
        matcher.offer(summarise(origin, item_from_event(raw, "item"), rules, pair.now))
    found = {(d.kind.value, d.keys["user_id"]["S"]) for d in matcher.candidates()}
    return found, matcher


def test_the_scan_checks_rule_finds_exactly_the_seeded_differences():
    pair = seeded_pair()
    found, matcher = matched(pair, pair.rules)
    assert found == pair.truth
    assert (matcher.stats.matched, matcher.stats.expired) == (pair.matched, pair.expired)
    assert (matcher.stats.source_items, matcher.stats.replica_items) == (len(pair.source), len(pair.replica))


def test_without_excluded_and_ignored_attributes_those_items_differ_too():
    pair = seeded_pair()
    found, _ = matched(pair, Rules(KEY_NAMES, ttl_attribute=TTL_ATTRIBUTE))
    assert found == pair.truth_without_rules
    assert pair.rules == Rules(KEY_NAMES, EXCLUDED, IGNORED, TTL_ATTRIBUTE)


def test_a_bigger_pair_has_the_same_seeded_differences_and_is_reproducible():
    big = seeded_pair(ordinary=500)
    assert big.truth == seeded_pair().truth
    assert len(big.source) == len(seeded_pair().source) + 460
    assert seeded_pair(ordinary=500) == big


def test_items_spread_over_data_files_and_empty_ones_without_loss():
    pair = seeded_pair()
    files = spread(pair.source, files=4, empty=2, seed=1)
    assert len(files) == 6 and sum(1 for f in files if not f) == 2
    assert sorted(map(repr, (item for f in files for item in f))) == sorted(map(repr, pair.source))


def test_a_seeded_users_key_is_its_items_primary_key():
    pair = seeded_pair()
    key = pair.key("extra-1")
    assert set(key) == set(KEY_NAMES) and key["user_id"] == {"S": "extra-1"}
    assert key["timestamp"]["N"].isdigit()
