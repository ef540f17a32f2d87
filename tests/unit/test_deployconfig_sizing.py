"""ParallelizationFactor from the region pair: the round-trip table, the invocation model, the choice."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from deployconfig import sizing
from deployconfig.config import WRITES_IN_FLIGHT, ConfigError, load

DEFAULT_BATCH = load().batch_size


def test_the_table_knows_the_pairs_the_issue_names():
    assert sizing.round_trip_ms("us-east-1", "eu-west-1") == 75
    assert sizing.round_trip_ms("us-east-1", "ap-southeast-2") == 200


def test_every_two_listed_regions_have_one_round_trip_whichever_way_round():
    regions = [region for group in sizing.REGION_GROUPS.values() for region in group]
    for a, b in itertools.combinations(regions, 2):
        there, back = sizing.round_trip_ms(a, b), sizing.round_trip_ms(b, a)
        assert there is not None and there == back, (a, b)
        assert 0 < there <= 500, (a, b)


def test_an_unlisted_region_is_assumed_far_away():
    # GIVEN a region the table does not list
    estimate = sizing.size("us-east-1", "xx-nowhere-1", batch_size=DEFAULT_BATCH, in_flight=WRITES_IN_FLIGHT)
    # THEN the estimate says so and assumes the farthest round trip the defaults cover
    assert not estimate.known_pair
    assert estimate.round_trip_ms == sizing.UNKNOWN_ROUND_TRIP_MS


@pytest.mark.parametrize(
    ("records", "round_trips"),
    [
        pytest.param(1, 2, id="one-record"),
        pytest.param(64, 2, id="one-wave"),
        pytest.param(65, 3, id="one-more"),
        pytest.param(100, 3, id="default-batch"),
        pytest.param(1000, 17, id="big-batch"),
    ],
)
def test_an_invocation_takes_two_round_trips_then_one_per_further_wave(records, round_trips):
    assert sizing.invocation_ms(100.0, records, 64, overhead_ms=20.0) == 20.0 + round_trips * 100.0


def test_the_factor_grows_with_the_round_trip_and_stays_within_1_to_10():
    # GIVEN the deployment's batch size and writes in flight, round trips from 1 ms to 1 s
    factors = [
        sizing.parallelization_factor(float(rtt), DEFAULT_BATCH, WRITES_IN_FLIGHT) for rtt in range(1, 1001)
    ]
    # THEN the factor never shrinks as the regions get farther apart, from 1 up to Lambda's 10
    assert factors == sorted(factors)
    assert (factors[0], factors[-1]) == (1, sizing.MAX_PARALLELIZATION_FACTOR)


def test_the_defaults_keep_a_saturated_shard_bounded_at_250_ms():
    # GIVEN the farthest round trip the defaults must cover
    estimate = sizing.Sizing(
        round_trip_ms=250.0,
        known_pair=True,
        parallelization_factor=sizing.parallelization_factor(250.0, DEFAULT_BATCH, WRITES_IN_FLIGHT),
        lane_records_per_second=sizing.lane_records_per_second(250.0, DEFAULT_BATCH, WRITES_IN_FLIGHT),
    )
    # THEN the chosen factor drains at least the 1,000 records/s a partition can take, with headroom
    assert estimate.keeps_up
    assert estimate.shard_records_per_second >= sizing.TARGET_RECORDS_PER_SECOND * sizing.HEADROOM


def test_the_factor_is_the_smallest_that_leaves_the_headroom():
    # GIVEN the default batch at the us-east-1 -> eu-west-1 round trip
    chosen = sizing.parallelization_factor(75.0, DEFAULT_BATCH, WRITES_IN_FLIGHT)
    lane = sizing.lane_records_per_second(75.0, DEFAULT_BATCH, WRITES_IN_FLIGHT)
    # THEN one lane fewer would not drain the target with headroom
    wanted = sizing.TARGET_RECORDS_PER_SECOND * sizing.HEADROOM
    assert chosen * lane >= wanted > (chosen - 1) * lane


@pytest.mark.parametrize(
    ("replica", "expected"),
    [pytest.param("eu-west-1", 4, id="75-ms"), pytest.param("ap-southeast-2", 8, id="200-ms")],
)
def test_the_mapping_factor_comes_from_the_region_pair_when_unset(replica, expected):
    # GIVEN no parallelizationFactor in the context
    config = load({"replicaRegion": replica})
    # THEN the replicator's factor is the one the region pair needs
    assert config.parallelization_factor == config.sizing.parallelization_factor == expected


def test_a_parallelization_factor_in_the_context_wins():
    config = load({"replicaRegion": "ap-southeast-2", "parallelizationFactor": 2})
    assert config.parallelization_factor == 2
    assert config.sizing.parallelization_factor == 8  # the estimate is still there to compare


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(0, id="zero"),
        pytest.param(11, id="above-lambdas-10"),
        pytest.param("many", id="not-a-number"),
    ],
)
def test_a_parallelization_factor_outside_1_to_10_is_refused_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"'parallelizationFactor' must be .*between 1 and 10"):
        load({"parallelizationFactor": value})


_DOC_ROW = re.compile(
    r"^\| (?P<source>[a-z0-9-]+) -> (?P<replica>[a-z0-9-]+|a region not listed)(?: \(the default\))? "
    r"\| (?P<rtt>\d+) ms(?: \(assumed\))? \| (?P<lane>[\d,]+) / s "
    r"\| (?P<factor>\d+) \| (?P<shard>[\d,]+) / s \|$"
)


def test_the_sizing_table_in_the_deployment_guide_is_what_the_code_chooses():
    # GIVEN the table of docs/deployment.md ("Sizing the parallelization factor")
    text = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text(encoding="utf-8")
    rows = [match for line in text.splitlines() if (match := _DOC_ROW.match(line))]
    assert len(rows) >= 8
    for row in rows:
        replica = "xx-unlisted-1" if row["replica"] == "a region not listed" else row["replica"]
        # WHEN the code sizes the same pair with the deployment's defaults
        estimate = sizing.size(row["source"], replica, batch_size=DEFAULT_BATCH, in_flight=WRITES_IN_FLIGHT)
        # THEN every figure of the row is the code's
        figures = (int(row["rtt"]), int(row["lane"].replace(",", "")), int(row["factor"]))
        assert figures == (
            round(estimate.round_trip_ms),
            round(estimate.lane_records_per_second),
            estimate.parallelization_factor,
        ), row.group(0)
        assert int(row["shard"].replace(",", "")) == round(estimate.shard_records_per_second), row.group(0)
