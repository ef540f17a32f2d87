"""The cost benchmark's generated histories and dollar arithmetic (bench/histories.py, bench/prices.py)."""

from __future__ import annotations

import pytest

from bench.histories import (
    APPEND_MOSTLY,
    DELETE_HEAVY,
    EXPIRING,
    MODIFY_ONLY,
    Change,
    History,
    Mix,
    batch_counts,
    rows_to_seed,
)
from bench.prices import PRICES, PerChange, lambda_gb_seconds_per_change, per_million
from ddbstream import key_id
from replicator.core.schema import VERSION_ATTRIBUTE, VERSION_WIDTH

VERSION_BYTES = len(VERSION_ATTRIBUTE) + VERSION_WIDTH


def test_a_batch_holds_exactly_the_mixs_share_of_each_change():
    assert batch_counts(APPEND_MOSTLY, 100) == {Change.INSERT: 85, Change.MODIFY: 10, Change.REMOVE: 5}
    assert sum(batch_counts(EXPIRING, 7).values()) == 7


@pytest.mark.parametrize("mix", [APPEND_MOSTLY, MODIFY_ONLY, DELETE_HEAVY, EXPIRING], ids=lambda m: m.name)
def test_every_batch_changes_existing_rows_once_each_and_items_stay_under_1_kb_with_the_version(mix):
    # GIVEN a history seeded with the rows it needs for ten batches
    history = History(mix, seed=3)
    seeded = history.seed_rows(rows_to_seed(mix, 10, 100))
    live = {key_id(step.key) for step in seeded}
    for _ in range(10):
        # WHEN the next batch is generated
        batch = history.batch(100)
        keys = [key_id(step.key) for step in batch]
        # THEN no row appears twice, and MODIFY and deletes only touch rows that exist
        assert len(set(keys)) == len(keys) == 100
        for step in batch:
            assert (key_id(step.key) in live) is (step.change is not Change.INSERT)
            if step.item is None:
                live.discard(key_id(step.key))
            else:
                live.add(key_id(step.key))
                assert step.size + VERSION_BYTES <= 1024
    assert history.live_rows == len(live)


def test_a_history_without_enough_rows_says_to_seed_more():
    history = History(MODIFY_ONLY, seed=1)
    history.seed_rows(10)
    with pytest.raises(ValueError, match="100 rows to change but only 10 exist: seed more rows"):
        history.batch(100)


def test_shares_that_do_not_add_up_are_refused():
    with pytest.raises(ValueError, match="must add up to 1"):
        Mix("broken", {Change.INSERT: 0.5})


def test_a_million_one_unit_writes_cost_the_write_price():
    assert per_million(PerChange(write_units=1.0)).total == pytest.approx(PRICES.write_unit_per_million)


def test_reads_transfer_and_lambda_are_priced_by_the_table():
    # GIVEN 1 WRU + 1 RRU, 1 KiB on the wire, and a 1 GB Lambda taking 0.2 s per batch of 100
    change = PerChange(
        write_units=1.0,
        read_units=1.0,
        transfer_bytes=1024,
        lambda_gb_seconds=lambda_gb_seconds_per_change(1024, 0.2, 100),
        lambda_invocations=1 / 100,
    )
    dollars = per_million(change)
    # THEN requests 0.625 + 0.125, transfer 1e6 KiB at $0.02/GB, Lambda 2,000 GB-s plus 10,000 requests
    assert dollars.requests == pytest.approx(0.75)
    assert dollars.transfer == pytest.approx(1e6 * 1024 / 2**30 * 0.02)
    assert dollars.compute == pytest.approx(2000 * 0.0000133334 + 0.002)


def test_lambda_bills_duration_rounded_up_to_the_millisecond():
    assert lambda_gb_seconds_per_change(1024, 0.1001, 1) == pytest.approx(0.101)
