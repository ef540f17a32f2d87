"""Fixtures of the integration tier: moto's AWS, and a mapping factory over the source stream."""

from __future__ import annotations

from tests.support.aws import aws, config, regions, usage_store  # noqa: F401 (fixtures)
from tests.support.mapping import clock, failure_queue, make_mapping  # noqa: F401 (fixtures)
