"""The saturated-shard benchmark's pure parts: lanes as Lambda splits a shard, and what a run shows."""

from __future__ import annotations

from bench.records import lambda_records
from bench.saturated import Invocation, Lane, split, summarise

RATE = 100.0


def _lanes(count: int, duration: float) -> list[Lane]:
    return split(lambda_records(int(RATE * duration), event_name="INSERT"), count, RATE)


def test_a_shard_is_split_by_item_key_keeping_each_lanes_records_in_stream_order():
    # GIVEN 50 records over 5 items (10 changes each), arriving at 100 records/s
    records = lambda_records(50, keys=5, event_name="INSERT")
    # WHEN split into 3 lanes
    lanes = split(records, 3, RATE)
    # THEN every record is in exactly one lane, every change of one item in the same lane
    assert sorted(r["eventID"] for lane in lanes for r in lane.records) == sorted(
        r["eventID"] for r in records
    )
    lane_of_item: dict[str, int] = {}
    for index, lane in enumerate(lanes):
        for record in lane.records:
            item = record["dynamodb"]["Keys"]["user_id"]["S"]
            assert lane_of_item.setdefault(item, index) == index
        # AND in stream order, each at its arrival time
        assert lane.arrivals == sorted(lane.arrivals)
        sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in lane.records]
        assert sequences == sorted(sequences)


def test_a_lane_that_never_returns_leaves_a_growing_backlog():
    # GIVEN two lanes fed for 4 s, one of which keeps up (each record done 10 ms after it arrives)
    lanes = _lanes(2, 4.0)
    kept_up = [Invocation(0, when + 0.01, i + 1) for i, when in enumerate(lanes[0].arrivals)]
    # WHEN the other never finishes an invocation
    summary = summarise(lanes, kept_up, duration=4.0, rate=RATE)
    # THEN its records pile up at their arrival rate: the backlog grows, the lag is the whole run
    assert summary["backlog_end"] == len(lanes[1].arrivals)
    assert summary["lag_end_ms"] == round((4.0 - lanes[1].arrivals[0]) * 1000)
    assert summary["backlog_growth_per_s"] > 0.05 * RATE
    assert not summary["bounded"]
    assert summary["records_per_s"] == len(lanes[0].arrivals) / 4.0


def test_lanes_that_keep_up_are_bounded_with_a_small_lag():
    # GIVEN every record of both lanes done 10 ms after it arrives
    lanes = _lanes(2, 4.0)
    done = [
        Invocation(index, when + 0.01, i + 1)
        for index, lane in enumerate(lanes)
        for i, when in enumerate(lane.arrivals)
    ]
    # WHEN summarised
    summary = summarise(lanes, done, duration=4.0, rate=RATE)
    # THEN the backlog stays within a record or two, the lag within the 10 ms, and it is bounded
    assert summary["backlog_max"] <= 2
    assert summary["lag_max_ms"] <= 10
    assert summary["bounded"]
    assert summary["records_per_s"] == RATE
