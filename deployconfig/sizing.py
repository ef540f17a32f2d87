"""How many batches of one shard the replicator must run at once to keep up, from the region pair.

A DynamoDB partition accepts about 1,000 writes per second, so one stream shard can carry that
many changes. The replicator writes them into another region, so its speed per invocation is set
by the round trip between the two regions. Lambda's ``ParallelizationFactor`` (1..10) runs up to
that many batches of one shard at the same time, and keeps the records of one item in order:
"When you increase the number of concurrent batches per shard, Lambda still ensures in-order
processing at the item (partition and sort key) level"
(https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html). The replicator's per-key order is
per item, so a higher factor never reorders one item's changes.

The model of one invocation (a batch of B records of distinct keys, C writes in flight):

* the first C records take two round trips: one strongly consistent BatchGetItem for the
  tombstones of the batch's inserts, then the conditional PutItem of each (the insert path);
* every further C records take one more round trip;
* plus a fixed per-invocation overhead (:data:`OVERHEAD_MS`: Lambda's invoke, parsing, planning).

A backlogged shard hands each concurrent batch full batches of B records, so B records per
invocation time is what one lane drains; the factor is the smallest that drains
:data:`TARGET_RECORDS_PER_SECOND` with :data:`HEADROOM` to spare, at most 10.

Round trips are *indicative*: rounded figures of the order public inter-region latency tables
(for example https://www.cloudping.co) report, grouped by geography; this project has not measured
them. A pair the table does not know is assumed to be :data:`UNKNOWN_ROUND_TRIP_MS` away. When a
measured round trip differs, set ``parallelizationFactor`` explicitly. Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TARGET_RECORDS_PER_SECOND = 1_000
"""What one shard must sustain: a partition (hence a hot shard) takes about 1,000 writes/s."""
HEADROOM = 1.25
"""Capacity kept above the target, so that a backlog drains (at a quarter of the target rate)."""
OVERHEAD_MS = 20.0
"""Per invocation, besides round trips: Lambda's invoke, parsing and planning the batch."""
MAX_PARALLELIZATION_FACTOR = 10
"""Lambda's limit for DynamoDB streams."""
UNKNOWN_ROUND_TRIP_MS = 250.0
"""Assumed for a region the table does not list: the farthest the defaults are meant to cover."""

# Regions grouped by geography; a round trip depends (roughly) on the two groups only.
REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "us-east": ("us-east-1", "us-east-2", "ca-central-1"),
    "us-west": ("us-west-1", "us-west-2", "ca-west-1"),
    "south-america": ("sa-east-1",),
    "europe-west": ("eu-west-1", "eu-west-2", "eu-west-3"),
    "europe-central": ("eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2"),
    "middle-east": ("me-south-1", "me-central-1", "il-central-1"),
    "africa": ("af-south-1",),
    "south-asia": ("ap-south-1", "ap-south-2"),
    "southeast-asia": ("ap-southeast-1", "ap-southeast-3", "ap-southeast-5", "ap-southeast-7"),
    "east-asia": ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-east-1"),
    "oceania": ("ap-southeast-2", "ap-southeast-4", "ap-southeast-6"),
}

# Indicative round trips in milliseconds; within a group, and between each pair of groups.
_WITHIN_GROUP_MS = 30.0
_BETWEEN_GROUPS_MS: dict[frozenset[str], float] = {
    frozenset(pair): float(ms)
    for pair, ms in {
        ("us-east", "us-west"): 70,
        ("us-east", "south-america"): 115,
        ("us-east", "europe-west"): 75,
        ("us-east", "europe-central"): 95,
        ("us-east", "middle-east"): 165,
        ("us-east", "africa"): 230,
        ("us-east", "south-asia"): 190,
        ("us-east", "southeast-asia"): 220,
        ("us-east", "east-asia"): 150,
        ("us-east", "oceania"): 200,
        ("us-west", "south-america"): 175,
        ("us-west", "europe-west"): 135,
        ("us-west", "europe-central"): 150,
        ("us-west", "middle-east"): 215,
        ("us-west", "africa"): 280,
        ("us-west", "south-asia"): 220,
        ("us-west", "southeast-asia"): 170,
        ("us-west", "east-asia"): 105,
        ("us-west", "oceania"): 140,
        ("south-america", "europe-west"): 185,
        ("south-america", "europe-central"): 200,
        ("south-america", "middle-east"): 280,
        ("south-america", "africa"): 340,
        ("south-america", "south-asia"): 300,
        ("south-america", "southeast-asia"): 330,
        ("south-america", "east-asia"): 260,
        ("south-america", "oceania"): 310,
        ("europe-west", "europe-central"): 25,
        ("europe-west", "middle-east"): 100,
        ("europe-west", "africa"): 160,
        ("europe-west", "south-asia"): 125,
        ("europe-west", "southeast-asia"): 175,
        ("europe-west", "east-asia"): 215,
        ("europe-west", "oceania"): 260,
        ("europe-central", "middle-east"): 90,
        ("europe-central", "africa"): 160,
        ("europe-central", "south-asia"): 115,
        ("europe-central", "southeast-asia"): 165,
        ("europe-central", "east-asia"): 225,
        ("europe-central", "oceania"): 255,
        ("middle-east", "africa"): 200,
        ("middle-east", "south-asia"): 40,
        ("middle-east", "southeast-asia"): 90,
        ("middle-east", "east-asia"): 130,
        ("middle-east", "oceania"): 165,
        ("africa", "south-asia"): 280,
        ("africa", "southeast-asia"): 320,
        ("africa", "east-asia"): 360,
        ("africa", "oceania"): 410,
        ("south-asia", "southeast-asia"): 60,
        ("south-asia", "east-asia"): 120,
        ("south-asia", "oceania"): 150,
        ("southeast-asia", "east-asia"): 70,
        ("southeast-asia", "oceania"): 95,
        ("east-asia", "oceania"): 110,
    }.items()
}
_GROUP_OF = {region: group for group, regions in REGION_GROUPS.items() for region in regions}


def round_trip_ms(source_region: str, replica_region: str) -> float | None:
    """The indicative round trip between two regions; None when the table does not know one."""
    source, replica = _GROUP_OF.get(source_region), _GROUP_OF.get(replica_region)
    if source is None or replica is None:
        return None
    if source == replica:
        return _WITHIN_GROUP_MS
    return _BETWEEN_GROUPS_MS[frozenset((source, replica))]


def invocation_ms(
    round_trip: float, batch_size: int, in_flight: int, overhead_ms: float = OVERHEAD_MS
) -> float:
    """Modelled duration of one invocation on ``batch_size`` records of distinct keys.

    Two round trips for the first ``in_flight`` records (tombstone read, then the put), one more
    for each further ``in_flight`` records, plus the fixed overhead.
    """
    waves = math.ceil(batch_size / in_flight)
    return overhead_ms + (waves + 1) * round_trip


def lane_records_per_second(
    round_trip: float, batch_size: int, in_flight: int, overhead_ms: float = OVERHEAD_MS
) -> float:
    """What one concurrent batch of a backlogged shard drains: full batches, one after another."""
    return batch_size * 1000.0 / invocation_ms(round_trip, batch_size, in_flight, overhead_ms)


def parallelization_factor(
    round_trip: float,
    batch_size: int,
    in_flight: int,
    *,
    target: float = TARGET_RECORDS_PER_SECOND,
    headroom: float = HEADROOM,
    overhead_ms: float = OVERHEAD_MS,
) -> int:
    """The smallest factor whose lanes drain ``target`` x ``headroom`` records/s, within 1..10."""
    lane = lane_records_per_second(round_trip, batch_size, in_flight, overhead_ms)
    needed = math.ceil(target * headroom / lane)
    return max(1, min(MAX_PARALLELIZATION_FACTOR, needed))


@dataclass(frozen=True, slots=True)
class Sizing:
    """The estimate for one deployment: the region pair's round trip and the factor it needs."""

    round_trip_ms: float
    known_pair: bool
    """False: the table does not list a region, :data:`UNKNOWN_ROUND_TRIP_MS` was assumed."""
    parallelization_factor: int
    lane_records_per_second: float

    @property
    def shard_records_per_second(self) -> float:
        """What a backlogged shard drains with this factor, per the model."""
        return self.parallelization_factor * self.lane_records_per_second

    @property
    def keeps_up(self) -> bool:
        """Whether a shard at :data:`TARGET_RECORDS_PER_SECOND` stays bounded, per the model."""
        return self.shard_records_per_second >= TARGET_RECORDS_PER_SECOND


def size(source_region: str, replica_region: str, *, batch_size: int, in_flight: int) -> Sizing:
    """The round-trip estimate and the ParallelizationFactor for a source and replica region."""
    known = round_trip_ms(source_region, replica_region)
    round_trip = UNKNOWN_ROUND_TRIP_MS if known is None else known
    return Sizing(
        round_trip_ms=round_trip,
        known_pair=known is not None,
        parallelization_factor=parallelization_factor(round_trip, batch_size, in_flight),
        lane_records_per_second=lane_records_per_second(round_trip, batch_size, in_flight),
    )
