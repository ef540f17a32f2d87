"""Fixtures of the end-to-end tier (servers, the demo, the benchmarks' smoke run)."""

from __future__ import annotations

from tests.support.aws import config  # noqa: F401 (fixture)
