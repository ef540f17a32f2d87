"""Every dashboard widget and alarm queries a series that exists, with its exact dimension set.

The check reads the *synthesized* templates (what CloudWatch will really get), so a renamed
metric or a changed dimension set in the catalogue, the dashboards or the alarms breaks the
build instead of leaving a dashboard empty.
"""

from __future__ import annotations

import pytest

from deployconfig.config import DeploymentConfig
from telemetry import catalogue as c
from tests.support.cdk_app import Synthesized
from tests.support.metric_refs import MetricRef, declared_universe, missing, template_refs

pytestmark = pytest.mark.xdist_group("cdk")


def _all_refs(synthesized: Synthesized) -> list[MetricRef]:
    return [
        ref
        for stack in synthesized.stacks().values()
        for ref in template_refs(stack.template, stack.region, stack.account)
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


def _published_in(ref: MetricRef, config: DeploymentConfig) -> tuple[str, str | None]:
    """The region and account a series is published in: the replica table's own metrics are the
    replica's; the EMF, Lambda and SQS metrics are the source's, where the functions run."""
    if (ref.namespace, ref.dimensions) == (
        "AWS/DynamoDB",
        frozenset({("TableName", config.replica_table_name)}),
    ):
        return config.replica_region, config.replica_account
    return config.source_region, config.account


@pytest.mark.parametrize("variant", ["cdk_default", "cdk_all_options"])
def test_every_series_is_read_from_the_region_and_account_it_is_published_in(variant, request):
    # GIVEN the app as deployed, and with the replica in another account (replicaRoleArn)
    synthesized: Synthesized = request.getfixturevalue(variant)
    config = synthesized.config
    # THEN every widget and alarm reads each series where it is published: a series read from
    # another account than its own is empty (issue 13: the replication dashboard in the replica
    # account showed source-account metrics that do not exist there)
    wrong = [
        f"{ref.where}: {ref.namespace} {ref.name} read from {ref.region}/{ref.account}, published in {where}"
        for ref in _all_refs(synthesized)
        if (ref.region, ref.account) != (where := _published_in(ref, config))
    ]
    assert wrong == []


def test_with_a_replica_account_only_the_replica_tables_series_crosses_accounts(cdk_all_options: Synthesized):
    # GIVEN a replica in another account than the source
    config = cdk_all_options.config
    assert config.replica_account != config.account
    # THEN both dashboards live in the source account and region, with the replicator
    dashboards = {
        props["DashboardName"]: stack
        for stack in cdk_all_options.stacks().values()
        for resource in stack.template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Dashboard"
        for props in [resource["Properties"]]
    }
    assert {name: (s.account, s.region) for name, s in dashboards.items()} == {
        "Users-replication": (config.account, config.source_region),
        "Users-usage": (config.account, config.source_region),
    }
    # AND the one series of the replica account is the replica table's write throttling
    foreign = {
        (ref.namespace, ref.name)
        for ref in _all_refs(cdk_all_options)
        if ref.where.startswith("dashboard") and ref.account != config.account
    }
    assert foreign == {("AWS/DynamoDB", "WriteThrottleEvents")}
