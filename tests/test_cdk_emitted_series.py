"""The real replicator, configured exactly as the synthesized stack configures it, emits every
series the replication dashboard and the alarms query.

The replicator runs against moto in two regions with the environment variables taken from the
synthesized Lambda function; its EMF output is collected and every reference of the templates
to the replication namespace must name a series it emitted (namespace, name, exact dimensions).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.cdk_app import Synthesized
from tests.support.emf_series import emitted_series
from tests.support.metric_refs import EmittedUniverse, declared_universe, missing, template_refs
from tests.support.replication import Harness

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cdk")]

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _replicator_environment(synthesized: Synthesized) -> dict[str, str]:
    for resource in synthesized.source.find_resources("AWS::Lambda::Function").values():
        props = resource["Properties"]
        if props["FunctionName"] == synthesized.config.replicator_function_name:
            variables: dict[str, str] = props["Environment"]["Variables"]
            return variables
    raise LookupError("no replicator function in the source stack")


def _key(user: str) -> dict[str, Any]:
    return {"user_id": {"S": user}, "timestamp": {"N": "1"}}


def _run_workload(regions: Any, harness: Harness, ttl_skip: Harness) -> None:
    """Inserts, modifies, removes, and every reason a record needs no write."""
    source = regions.source
    source.put_item(TableName="Users", Item={**_key("alice"), "plan": {"S": "free"}})
    source.put_item(TableName="Users", Item={**_key("bob")})
    source.update_item(
        TableName="Users",
        Key=_key("alice"),
        UpdateExpression="SET #p = :p",
        ExpressionAttributeNames={"#p": "plan"},
        ExpressionAttributeValues={":p": {"S": "pro"}},
    )
    source.delete_item(TableName="Users", Key=_key("bob"))
    first = regions.tap.read_event()  # alice twice in one batch: one write supersedes the other
    harness.deliver(first)
    harness.deliver(copy.deepcopy(first))  # at-least-once delivery: AlreadyApplied
    # A replay of bob's INSERT after his REMOVE was applied: DeletedLater.
    harness.deliver({"Records": [copy.deepcopy(first["Records"][1])]})
    source.put_item(TableName="Users", Item={**_key("dave")})
    harness.deliver(regions.tap.read_event())  # a plain INSERT
    source.put_item(TableName="Users", Item={**_key("carol"), "v": {"S": "1"}})
    source.put_item(TableName="Users", Item={**_key("carol"), "v": {"S": "2"}})
    older, newer = regions.tap.read()
    harness.deliver({"Records": [newer]})
    harness.deliver({"Records": [older]})  # Stale
    source.delete_item(TableName="Users", Key=_key("carol"))
    ttl_event = regions.tap.read_event()
    ttl_event["Records"][-1]["userIdentity"] = dict(TTL_IDENTITY)
    ttl_skip.deliver(ttl_event)  # TtlPolicy (ttlDeletes=skip)


def test_replicator_emits_every_series_the_templates_query(regions, cdk_default: Synthesized):
    # GIVEN the replicator configured from the synthesized function's environment
    environment = _replicator_environment(cdk_default)
    harness = Harness(regions, env=environment)
    ttl_skip = Harness(regions, env={**environment, "TTL_DELETES": "skip"})
    # WHEN it replicates a workload with every operation and every skip reason
    _run_workload(regions, harness, ttl_skip)
    emitted = emitted_series([*harness.log_lines(), *ttl_skip.log_lines()])
    # THEN every replication-namespace series of every dashboard widget and alarm was emitted
    namespace = cdk_default.config.replication_namespace
    refs = [
        ref
        for region, template in cdk_default.templates().values()
        for ref in template_refs(template, region)
        if ref.namespace == namespace
    ]
    assert len(refs) >= 15
    universe = EmittedUniverse(emitted, aws=declared_universe(cdk_default.config))
    assert missing(refs, universe) == []
