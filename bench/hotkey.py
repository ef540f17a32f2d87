"""How evenly execution environments spread the high-water mark's writes over its buckets.

Each execution environment's :class:`~replicator.adapters.writer.ReplicaWriter` picks one bucket
at random when it is built, and raises only that bucket. With every environment invoked at the
same rate, the busiest bucket's share of the mark writes is the largest number of environments
that picked one bucket, over the number of environments. :func:`draw` uses the writer's own
choice; the rest is arithmetic: exact binomial tails, and the union bound over buckets for the
chance that any bucket gets more than a given number of environments.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.throttle import ITEM_WRITES_PER_SECOND
from replicator.adapters.writer import ReplicaWriter
from replicator.core.protocol import ReplicaTables
from replicator.core.schema import DEFAULT_TOMBSTONE_RETENTION_HOURS

HOT_SHARE_FLOOR = 1 / 8
"""Issue 12: with 128 execution environments, the busiest state item takes at most 1/8 of the writes."""


def draw(environments: int, buckets: int) -> list[int]:
    """The bucket each of ``environments`` new writers picks (the replicator's own random choice)."""
    tables = ReplicaTables("r", "s", DEFAULT_TOMBSTONE_RETENTION_HOURS * 3600, watermark_buckets=buckets)
    return [ReplicaWriter(None, tables).bucket for _ in range(environments)]  # type: ignore[arg-type]


def busiest(choices: Sequence[int]) -> int:
    """How many environments share the most popular bucket."""
    return max(Counter(choices).values())


def binomial_tail(n: int, buckets: int, k: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/buckets), exactly (integer arithmetic, then one division)."""
    if k <= 0:
        return 1.0
    numerator = sum(math.comb(n, i) * (buckets - 1) ** (n - i) for i in range(k, n + 1))
    return numerator / buckets**n


def chance_any_bucket_at_least(n: int, buckets: int, k: int) -> float:
    """An upper bound (union over buckets) on the chance that some bucket gets ``k`` or more of ``n``."""
    return min(1.0, buckets * binomial_tail(n, buckets, k))


def share_at(environments: int, buckets: int, *, trials: int) -> dict[str, Any]:
    """The busiest bucket's share of the mark writes, over ``trials`` fleets of new environments."""
    counts = [busiest(draw(environments, buckets)) for _ in range(trials)]
    too_many = math.floor(environments * HOT_SHARE_FLOOR) + 1  # environments that break the floor
    return {
        "environments": environments,
        "buckets": buckets,
        "trials": trials,
        "mean_share": round(sum(counts) / trials / environments, 4),
        "worst_share": round(max(counts) / environments, 4),
        "floor": HOT_SHARE_FLOOR,
        "chance_above_floor": chance_any_bucket_at_least(environments, buckets, too_many),
        "single_mark_share": 1.0,
    }


def load_at(environments: int, rate: float, buckets: int, *, trials: int) -> dict[str, Any]:
    """Writes per second on the busiest bucket, each environment raising its own ``rate`` times a second."""
    counts = [busiest(draw(environments, buckets)) for _ in range(trials)]
    half = ITEM_WRITES_PER_SECOND / 2
    too_many = math.floor(half / rate) + 1  # environments on one bucket that exceed half the limit
    return {
        "environments": environments,
        "rate_per_environment": rate,
        "buckets": buckets,
        "trials": trials,
        "expected_per_bucket": round(environments * rate / buckets, 1),
        "worst_busiest": round(max(counts) * rate, 1),
        "mean_busiest": round(sum(counts) / trials * rate, 1),
        "half_limit": half,
        "chance_above_half": chance_any_bucket_at_least(environments, buckets, too_many),
        "single_mark": environments * rate,
    }
