"""Fixtures of the CDK tier: the app synthesized once per session (and moto, for the tests that run
the handlers to compare what they emit with what the dashboards query)."""

from __future__ import annotations

from tests.support.aws import aws, config, regions, usage_store  # noqa: F401 (fixtures)
from tests.support.cdk_app import (  # noqa: F401 (fixtures)
    cdk_all_options,
    cdk_default,
    cdk_far_replica_expire,
    cdk_imported_table,
    cdk_redeploy_after_destroy,
)
