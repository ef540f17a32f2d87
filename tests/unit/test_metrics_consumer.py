"""The metrics consumer on a large batch: every value of a distribution is published (histograms),
counters stay one document per dimension set (pure: records from the event factory, output to a
memory sink)."""

from __future__ import annotations

import math

from ddbstream import item_size_bytes
from metrics.emit import MAX_VALUES
from telemetry import catalogue as c
from tests.support.consumer import PLATFORMS, Run
from tests.support.events import event_of, key, record
from tests.support.usage import SETTINGS


def _nearest_rank(values: list[float], p: float) -> float:
    """CloudWatch's percentile on raw values: the value at rank ceil(p% of n)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * p / 100)) - 1]


def _batch(run: Run, count: int) -> list[dict[str, object]]:
    # Sizes from ~60 bytes to ~10 KB, all different: the worst case for a histogram.
    return [
        record(
            10**20 + i,
            "INSERT",
            keys=key(f"u{i % 5000}", i),
            attributes={
                "plan": {"S": "free"},
                "platform": {"S": str(PLATFORMS[i % 4])},
                "pad": {"S": "x" * i},
            },
            created_at=int(run.now) - 1 - i % 7,
        )
        for i in range(count)
    ]


def test_a_10000_record_batch_publishes_every_size_and_its_counters_once():
    # GIVEN 10,000 inserts by 5,000 users (enough to switch ActiveUsers to the HLL sketch)
    run = Run()
    records = _batch(run, 10_000)
    sizes_written = [item_size_bytes(r["dynamodb"]["NewImage"]) for r in records]  # type: ignore[index]

    # WHEN it is handled in one invocation, and then its first 100 records alone
    run(event_of(records))
    run(event_of(records[:100]))

    # THEN the small batch makes the configuration-bounded number of documents, and the large one
    # one more per further 100 distinct sizes, each within the EMF limits
    bound = 1 + 3 + len(SETTINGS.segments) + 3 * len(SETTINGS.tracked_attributes) + 1 + len(SETTINGS.segments)
    assert len(run.documents[1]) <= bound
    extra = math.ceil(len(set(sizes_written)) / MAX_VALUES) - 1
    assert len(run.documents[0]) == len(run.documents[1]) + extra
    for doc in run.documents[0]:
        for name, member in doc.raw.items():
            if isinstance(member, dict) and name != "_aws":
                assert len(member["Values"]) <= MAX_VALUES
    series = run.series(0)
    t = (c.TABLE, "Users")
    assert series[(c.ITEM_CHANGES.name, (t,))] == [10_000]
    assert sorted(series[(c.ITEM_SIZE.name, (t,))]) == sorted(sizes_written)  # SampleCount 10,000
    (estimate,) = series[(c.ACTIVE_USERS.name, (t,))]
    assert abs(estimate - 5000) / 5000 < 0.025  # 3 standard errors of the lg_k=14 sketch


def test_p50_and_p99_of_a_10000_record_batch_match_the_truth_within_1_percent():
    # GIVEN a batch of 10,000 records with sizes and lags spread over many distinct values
    run = Run()
    records = _batch(run, 10_000)
    sizes = [float(item_size_bytes(r["dynamodb"]["NewImage"])) for r in records]  # type: ignore[index]
    lags = [(run.now - (int(run.now) - 1 - i % 7)) * 1000 for i in range(10_000)]

    # WHEN the consumer publishes it
    run(event_of(records))

    # THEN the percentiles CloudWatch computes from the published values are the batch's own
    series = run.series(0)
    t = (c.TABLE, "Users")
    for spec, truth in ((c.ITEM_SIZE, sizes), (c.CHANGE_LAG, lags)):
        published = series[(spec.name, (t,))]
        assert len(published) == len(truth)
        for p in (50, 99):
            expected = _nearest_rank(truth, p)
            assert abs(_nearest_rank(published, p) - expected) <= 0.01 * expected, (spec.name, p)
