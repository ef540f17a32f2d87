"""The local runtime runs the consumers as the CDK app deploys them: same mappings, same functions.

The demo builds its event source mappings and functions from ``cdk.json`` through its own code;
this test reads them back from the synthesized template, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from localrun.esm.settings import MappingSettings, metrics_mapping, replicator_mapping
from localrun.invoke.handlers import replicator_environment
from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == kind}


def _function(template: Mapping[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (n, p) for n, p in _resources(template, "AWS::Lambda::Function").items() if n.startswith(prefix)
    ]
    return found


def _mapping_of(template: Mapping[str, Any], function: str) -> dict[str, Any]:
    mappings = _resources(template, "AWS::Lambda::EventSourceMapping").values()
    (found,) = [m for m in mappings if m["FunctionName"] == {"Ref": function}]
    return found


def _as_deployed(settings: MappingSettings) -> dict[str, Any]:
    expected: dict[str, Any] = {
        "BatchSize": settings.batch_size,
        "MaximumBatchingWindowInSeconds": settings.batching_window_seconds,
        "MaximumRetryAttempts": settings.max_retry_attempts,
        "MaximumRecordAgeInSeconds": settings.max_record_age_seconds,
        "BisectBatchOnFunctionError": settings.bisect_on_error,
        "FunctionResponseTypes": ["ReportBatchItemFailures"] if settings.report_batch_item_failures else None,
        "StartingPosition": settings.starting_position.value,
    }
    if settings.windowed:
        expected["TumblingWindowInSeconds"] = settings.tumbling_window_seconds
    return expected


@pytest.mark.parametrize(
    ("prefix", "mapping"),
    [
        pytest.param("ReplicatorFunction", replicator_mapping, id="replicator"),
        pytest.param("UsageMetricsFunction", metrics_mapping, id="usage-metrics"),
    ],
)
def test_the_local_mappings_are_the_deployed_ones(cdk_default: Synthesized, prefix, mapping):
    template = cdk_default.source.to_json()
    name, _ = _function(template, prefix)
    deployed = _mapping_of(template, name)
    expected = _as_deployed(mapping(cdk_default.config))
    assert {key: deployed.get(key) for key in expected} == expected


def test_the_local_functions_have_the_deployed_environment_and_limits(cdk_default: Synthesized):
    template = cdk_default.source.to_json()
    cfg = cdk_default.config
    for prefix, environment, memory, timeout in (
        (
            "ReplicatorFunction",
            replicator_environment(cfg, None),
            cfg.replicator_memory_mb,
            cfg.replicator_timeout_seconds,
        ),
        (
            "UsageMetricsFunction",
            cfg.metrics_environment(),
            cfg.metrics_memory_mb,
            cfg.metrics_timeout_seconds,
        ),
        # (locally the merge also names the usage table's region and waits a 3 s grace)
        ("UsageMergeFunction", cfg.merge_environment(), cfg.merge_memory_mb, cfg.merge_timeout_seconds),
    ):
        _, function = _function(template, prefix)
        deployed = function["Environment"]["Variables"]
        # The CDK app may add variables of its own (e.g. for the runtime); ours must all be there.
        assert {key: deployed.get(key) for key in environment} == environment
        assert (function["MemorySize"], function["Timeout"]) == (memory, timeout)
