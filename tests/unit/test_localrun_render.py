"""The dashboards' rendering rules: the period chosen for a run's length, nearest-rank percentiles."""

from __future__ import annotations

import pytest

from localrun.cloudwatch.metrics import percentile
from localrun.cloudwatch.render import choose_period


def test_the_dashboards_period_is_kept_for_long_runs_and_shortened_for_short_ones():
    assert choose_period(0, 3600, 60) == 60
    assert choose_period(0, 60, 60) == 5
    assert choose_period(0, 5, 60) == 1


def test_percentiles_use_the_nearest_rank():
    values = [float(v) for v in range(1, 11)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 10)) == (5.0, 10.0, 1.0)
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
