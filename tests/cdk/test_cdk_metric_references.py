"""Every dashboard widget and alarm queries a series that exists, with its exact dimension set.

The check reads the *synthesized* templates (what CloudWatch will really get), so a renamed
metric or a changed dimension set in the catalogue, the dashboards or the alarms breaks the
build instead of leaving a dashboard empty.
"""

from __future__ import annotations

import pytest

from telemetry import catalogue as c
from tests.support.cdk_app import Synthesized
from tests.support.metric_refs import MetricRef, declared_universe, missing, template_refs

pytestmark = pytest.mark.xdist_group("cdk")


def _all_refs(synthesized: Synthesized) -> list[MetricRef]:
    return [
        ref
        for region, template in synthesized.templates().values()
        for ref in template_refs(template, region)
    ]


def test_dashboards_and_alarms_query_only_declared_series(cdk_default: Synthesized):
    refs = _all_refs(cdk_default)
    assert missing(refs, declared_universe(cdk_default.config)) == []


def test_every_catalogue_metric_is_on_a_dashboard(cdk_default: Synthesized):
    config = cdk_default.config
    plotted = {
        (ref.namespace, ref.name) for ref in _all_refs(cdk_default) if ref.where.startswith("dashboard")
    }
    for spec in c.REPLICATOR_METRICS:
        assert (config.replication_namespace, spec.name) in plotted, spec.name
    for spec in c.USAGE_METRICS:
        assert (config.usage_namespace, spec.name) in plotted, spec.name


def test_alarms_stay_in_the_region_of_the_metrics_they_watch(cdk_default: Synthesized):
    config = cdk_default.config
    for ref in _all_refs(cdk_default):
        if not ref.where.startswith("alarm"):
            continue
        if ref.namespace.startswith("AWS/DynamoDB"):
            assert ref.region == config.replica_region, ref.where
        else:
            # EMF metrics, Lambda and SQS metrics exist where the functions and queues run.
            assert ref.region == config.source_region, ref.where


def test_per_segment_and_per_attribute_series_are_expanded(cdk_default: Synthesized):
    config = cdk_default.config
    refs = _all_refs(cdk_default)
    segments = {dict(ref.dimensions).get(c.SEGMENT) for ref in refs} - {None}
    attributes = {dict(ref.dimensions).get(c.ATTRIBUTE) for ref in refs} - {None}
    assert segments == {*config.segment_values, c.OTHER_SEGMENT}
    assert attributes == set(config.tracked_attributes)
