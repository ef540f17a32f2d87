"""Fixtures of the integration tier: moto's AWS, a mapping factory over the source stream, and a
local SparkSession per module for the Spark tests (started only by a test that asks for it)."""

from __future__ import annotations

from tests.support.aws import aws, config, regions, usage_store  # noqa: F401 (fixtures)
from tests.support.mapping import clock, failure_queue, make_mapping  # noqa: F401 (fixtures)
from tests.support.spark import spark  # noqa: F401 (fixture)
