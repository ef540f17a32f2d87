"""Fixtures of the end-to-end tier (servers, the demo, the smoke runs of the benchmarks and make mutate)."""

from __future__ import annotations

from tests.support.aws import config  # noqa: F401 (fixture)
