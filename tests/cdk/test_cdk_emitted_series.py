"""The real handlers, configured exactly as the synthesized stack configures them, emit every
series the dashboards and alarms query.

Both consumers run on records read from moto's stream, with the environment variables taken
from the synthesized Lambda functions. Their EMF output is validated against the EMF
specification (tests/support/emf.py) and collected; every reference of the templates to our
namespaces must name a series they emitted: namespace, name and the exact dimension set. A
renamed metric, a dropped dimension or an unplotted segment breaks this test, not a dashboard.
"""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest

from metrics.merge import Merge
from metrics.settings import from_environ as metrics_settings
from metrics.settings import merge_from_environ
from tests.support.cdk_app import Synthesized
from tests.support.consumer import Run, minute
from tests.support.emf import parse_output
from tests.support.error_classes import produce_every_error_class
from tests.support.events import key, malformed_records, mark_ttl_delete
from tests.support.metric_refs import (
    EmittedUniverse,
    MetricRef,
    declared_universe,
    emitted_series,
    missing,
    template_refs,
)
from tests.support.replication import Harness
from tests.support.usage import UsageModel, windowed

pytestmark = pytest.mark.xdist_group("cdk")


def _environment(synthesized: Synthesized, function_name: str) -> dict[str, str]:
    for resource in synthesized.source.find_resources("AWS::Lambda::Function").values():
        props = resource["Properties"]
        if props["FunctionName"] == function_name:
            variables: dict[str, str] = props["Environment"]["Variables"]
            return variables
    raise LookupError(f"no function {function_name} in the source stack")


def _refs(synthesized: Synthesized, namespace: str) -> list[MetricRef]:
    return [
        ref
        for region, template in synthesized.templates().values()
        for ref in template_refs(template, region)
        if ref.namespace == namespace
    ]


def _replication_workload(regions: Any, harness: Harness, ttl_skip: Harness) -> None:
    """Inserts, modifies, removes, and every reason a record needs no write."""
    source = regions.source
    source.put_item(TableName="Users", Item={**key("alice"), "plan": {"S": "free"}})
    source.put_item(TableName="Users", Item={**key("bob")})
    source.update_item(
        TableName="Users",
        Key=key("alice"),
        UpdateExpression="SET #p = :p",
        ExpressionAttributeNames={"#p": "plan"},
        ExpressionAttributeValues={":p": {"S": "pro"}},
    )
    source.delete_item(TableName="Users", Key=key("bob"))
    first = regions.tap.read_event()  # alice twice in one batch: one write supersedes the other
    harness.deliver(first)
    harness.deliver(copy.deepcopy(first))  # at-least-once delivery: AlreadyApplied
    # A replay of bob's INSERT after his REMOVE was applied: DeletedLater.
    harness.deliver({"Records": [copy.deepcopy(first["Records"][1])]})
    source.put_item(TableName="Users", Item={**key("dave")})
    harness.deliver(regions.tap.read_event())  # a plain INSERT
    source.put_item(TableName="Users", Item={**key("carol"), "v": {"S": "1"}})
    source.put_item(TableName="Users", Item={**key("carol"), "v": {"S": "2"}})
    older, newer = regions.tap.read()
    harness.deliver({"Records": [newer]})
    harness.deliver({"Records": [older]})  # Stale
    source.delete_item(TableName="Users", Key=key("carol"))
    ttl_event = regions.tap.read_event()
    mark_ttl_delete(ttl_event["Records"][-1])
    ttl_skip.deliver(ttl_event)  # TtlPolicy (ttlDeletes=skip)


def test_replicator_emits_every_series_the_templates_query(regions, cdk_default: Synthesized):
    # GIVEN the replicator configured from the synthesized function's environment
    environment = _environment(cdk_default, cdk_default.config.replicator_function_name)
    harness = Harness(regions, env=environment)
    ttl_skip = Harness(regions, env={**environment, "TTL_DELETES": "skip"})
    # WHEN it replicates a workload with every operation, skip reason and error class
    _replication_workload(regions, harness, ttl_skip)
    failure_lines, _ = produce_every_error_class(regions, environment)
    emitted = emitted_series(parse_output([*harness.log_lines(), *ttl_skip.log_lines(), *failure_lines]))
    # THEN every replication-namespace series of every dashboard widget and alarm was emitted
    refs = _refs(cdk_default, cdk_default.config.replication_namespace)
    assert len(refs) >= 15
    assert missing(refs, EmittedUniverse(emitted, aws=declared_universe(cdk_default.config))) == []


def _usage_workload(model: UsageModel, tracked: tuple[str, ...], segments: tuple[str, ...]) -> None:
    """Every tracked attribute added, changed and removed; every segment and "other"; a user
    delete and a TTL delete."""
    model.put({"user_id": "u0", "timestamp": 1, "platform": segments[0], **dict.fromkeys(tracked, "a")})
    model.put({"user_id": "u0", "timestamp": 1, "platform": segments[0], **dict.fromkeys(tracked, "b")})
    model.put({"user_id": "u0", "timestamp": 1, "platform": segments[0]})
    for number, segment in enumerate((*segments, "not-a-segment"), start=1):
        model.put({"user_id": f"u{number}", "timestamp": 1, "platform": segment})
    model.put({"user_id": "u9", "timestamp": 1})  # no segment attribute at all: "other"
    model.delete("u1", 1)
    model.delete("u2", 1, ttl=True)


def test_metrics_consumer_and_merge_emit_every_series_the_templates_query(
    regions, usage_store, cdk_default: Synthesized
):
    # GIVEN the metrics consumer and the merge configured from the synthesized functions' environments
    config = cdk_default.config
    settings = metrics_settings(_environment(cdk_default, config.metrics_function_name))
    run = Run(settings, store=usage_store)
    merge_out = io.StringIO()
    merge = Merge(
        merge_from_environ(_environment(cdk_default, config.merge_function_name)), usage_store, merge_out
    )
    model = UsageModel(
        regions.source,
        config.table_name,
        regions.tap,
        tracked=config.tracked_attributes,
        segment_attribute=str(config.segment_attribute),
        segments=config.segment_values,
    )
    # WHEN a tumbling window sees the workload (plus malformed records) and closes
    _usage_workload(model, config.tracked_attributes, config.segment_values)
    event = model.read_event()
    event["Records"] += malformed_records(regions.stream_arn, 10**20, 2)
    start = minute(run.now)
    response = run(windowed(event, start))
    run(windowed({"Records": []}, start, response["state"], final=True))
    # AND the merge publishes that minute (the event asks for it without waiting for the grace)
    merge.handle({"through": start[:16]}, None)
    documents = [document for documents in run.documents for document in documents]
    emitted = emitted_series([*documents, *parse_output(merge_out.getvalue())])
    # THEN every usage-namespace series of every dashboard widget and alarm was emitted
    refs = _refs(cdk_default, config.usage_namespace)
    assert len(refs) >= 20
    assert missing(refs, EmittedUniverse(emitted, aws=declared_universe(config))) == []
