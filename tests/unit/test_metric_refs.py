"""The metric-reference check itself: it must reject series nobody publishes, or it proves nothing.

(The check applied to the synthesized app is in test_cdk_metric_references.py.)
"""

from __future__ import annotations

import pytest

from deployconfig.config import DeploymentConfig, load
from tests.support.metric_refs import EmittedUniverse, MetricRef, declared_universe, missing


@pytest.fixture
def config() -> DeploymentConfig:
    """The deployment configuration from cdk.json (pure: a file read, no AWS)."""
    return load()


def _ref(namespace: str, name: str, **dimensions: str) -> MetricRef:
    return MetricRef(namespace, name, frozenset(dimensions.items()), "us-east-1", "test")


@pytest.mark.parametrize(
    "ref",
    [
        pytest.param(_ref("DynamoDBReplication", "RecordsReplicatedTotal", TableName="Users"), id="renamed"),
        pytest.param(
            _ref("DynamoDBReplication", "RecordsReplicated", Operation="INSERT"), id="missing-table-dim"
        ),
        pytest.param(
            _ref("DynamoDBReplication", "ReplicationLagMs", TableName="Users", Operation="INSERT"),
            id="extra-dim",
        ),
        pytest.param(_ref("DynamoDBReplication", "RecordsReplicated", TableName="Orders"), id="other-table"),
        pytest.param(
            _ref("DynamoDBUsage", "ItemChanges", TableName="Users", Segment="tv"), id="unknown-segment"
        ),
        pytest.param(_ref("DynamoDBUsage", "RecordsReplicated", TableName="Users"), id="wrong-namespace"),
        pytest.param(_ref("AWS/Lambda", "IteratorAge", FunctionName="someone-else"), id="foreign-function"),
    ],
)
def test_the_check_rejects_series_nobody_publishes(ref: MetricRef, config: DeploymentConfig):
    # The check itself must be able to fail, or the tests above prove nothing.
    assert missing([ref], declared_universe(config)) != []


def test_an_emitted_universe_can_replace_the_declared_one(config: DeploymentConfig):
    # GIVEN a handler run that emitted only the per-table replication count
    emitted = frozenset({("DynamoDBReplication", "RecordsReplicated", frozenset({("TableName", "Users")}))})
    universe = EmittedUniverse(emitted, aws=declared_universe(config))
    # THEN a widget on that exact series is fine, one on a per-operation series is not
    assert missing([_ref("DynamoDBReplication", "RecordsReplicated", TableName="Users")], universe) == []
    assert missing(
        [_ref("DynamoDBReplication", "RecordsReplicated", TableName="Users", Operation="MODIFY")], universe
    )
    # AND AWS metrics are judged by the AWS rules
    assert missing([_ref("AWS/Lambda", "Errors", FunctionName="Users-replicator")], universe) == []
