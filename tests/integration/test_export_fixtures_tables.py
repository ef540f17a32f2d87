"""The seeded export pair loaded into two DynamoDB tables (moto) keeps its meaning: scanned back and
paired by the scan check's rule, it holds exactly the seeded differences. This is what lets the scan
check and the export check be run on one pair."""

from __future__ import annotations

from replicator.cli.diff import Matcher
from replicator.core.compare import Origin, summarise
from tests.support.exports import load_into_tables, seeded_pair


def scanned(client, table):
    return [item for page in client.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]


def test_the_pair_loaded_into_tables_holds_the_seeded_differences(regions):
    # GIVEN the pair loaded into the deployment's source and replica tables
    pair = seeded_pair()
    table, replica_table = regions.config.table_name, regions.config.replica_table_name
    load_into_tables(pair, regions.source, table, regions.replica, replica_table)
    # WHEN both tables are scanned and paired as the scan check pairs them
    source, replica = scanned(regions.source, table), scanned(regions.replica, replica_table)
    matcher = Matcher()
    for origin, items in ((Origin.SOURCE, source), (Origin.REPLICA, replica)):
        for item in items:
            matcher.offer(summarise(origin, item, pair.rules, pair.now))
    # THEN every item is there, binary values as bytes, and exactly the seeded differences show
    assert (len(source), len(replica)) == (len(pair.source), len(pair.replica))
    assert all(isinstance(item["avatar"]["B"], bytes) for item in source)
    assert {(d.kind.value, d.keys["user_id"]["S"]) for d in matcher.candidates()} == pair.truth
    assert (matcher.stats.matched, matcher.stats.expired) == (pair.matched, pair.expired)
