"""The metrics consumer on a large batch: the number of EMF documents is bounded by configuration,
not by batch size (pure: records from the event factory, output to a memory sink)."""

from __future__ import annotations

from ddbstream import item_size_bytes
from metrics.emit import MAX_VALUES
from telemetry import catalogue as c
from tests.support.consumer import PLATFORMS, Run
from tests.support.events import event_of, key, record
from tests.support.usage import SETTINGS


def test_a_10000_record_batch_makes_as_many_documents_as_a_small_one():
    # GIVEN 10,000 inserts by 5,000 users (enough to switch ActiveUsers to the HLL sketch)
    run = Run()
    records = [
        record(
            10**20 + i,
            "INSERT",
            keys=key(f"u{i % 5000}", i),
            attributes={"plan": {"S": "free"}, "platform": {"S": str(PLATFORMS[i % 4])}},
            created_at=int(run.now) - 1,
        )
        for i in range(10_000)
    ]
    sizes_written = [item_size_bytes(r["dynamodb"]["NewImage"]) for r in records]

    # WHEN it is handled in one invocation, and then its first 100 records alone
    run(event_of(records))
    run(event_of(records[:100]))

    # THEN both produce the same, configuration-bounded number of documents within the EMF limits
    bound = 1 + 3 + len(SETTINGS.segments) + 3 * len(SETTINGS.tracked_attributes) + 1 + len(SETTINGS.segments)
    assert len(run.documents[0]) == len(run.documents[1]) <= bound
    for doc in run.documents[0]:
        assert all(len(s.values) <= MAX_VALUES for s in doc.series)
    series = run.series(0)
    t = (c.TABLE, "Users")
    assert series[(c.ITEM_CHANGES.name, (t,))] == [10_000]
    sizes = series[(c.ITEM_SIZE.name, (t,))]
    assert (min(sizes), max(sizes)) == (min(sizes_written), max(sizes_written))
    (estimate,) = series[(c.ACTIVE_USERS.name, (t,))]
    assert abs(estimate - 5000) / 5000 < 0.025  # 3 standard errors of the lg_k=14 sketch
