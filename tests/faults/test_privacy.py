"""Scenario 8: item contents never leave the items, whatever goes wrong.

Items carry sentinel values in every kind of non-key attribute (keys are legitimately reported by
``check``, so none is planted there). The run goes through every failure path that writes something
down: throttling, 5xx, lost replies, runtime crashes, an outage longer than the retry budget (failure
queue, then ``redrive``), and poison records carrying sentinels too (their error log lines, messages
and redrive report), then ``check`` with its JSON report. Everything written anywhere is searched.
"""

from __future__ import annotations

import base64
import json
import logging
import random
from typing import Any

from faultlab import poison
from faultlab.faults import FaultRates
from faultlab.payloads import Sentinels
from faultlab.poison import Poison
from faultlab.rig import RigSettings
from faultlab.sandbox import SandboxRates
from faultlab.sequenced import SequencedSettings
from faultlab.validate import sentinel_hits
from tests.support.rig import running

POSITIONS = {10: Poison.OVERSIZE, 20: Poison.KEY_TYPE, 30: Poison.MALFORMED, 40: Poison.METADATA}
OUR_LOGGERS = ("replicator", "metrics", "ddbstream", "telemetry", "localrun")


def dumped(value: Any) -> str:
    return json.dumps(value, default=lambda b: base64.b64encode(b).decode(), sort_keys=True)


def test_sentinels_appear_in_no_log_line_metric_message_or_report(make_rig, tmp_path, caplog, capfd):
    # Everything our code logs, at every level; libraries at INFO (botocore's DEBUG log quotes request
    # bodies, and is off in Lambda unless someone turns it on).
    caplog.set_level(logging.INFO)
    for name in OUR_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    sentinels = Sentinels()
    # GIVEN items and poison records full of sentinels, written through faults of every kind
    settings = RigSettings(
        seed=81,
        function_timeout=1.5,
        max_retry_attempts=1,
        rates=FaultRates(throttle=0.1, server_error=0.05, lost_reply=0.1, timeout=0.05),
        # Seed 81 rolls 0.527 for the first invocation, a duplicate at these rates: the sandbox's
        # fault path is taken however the batches fall (a crash only counts once its request is reached).
        sandbox=SandboxRates(crash=0.15, duplicate=0.4),
    )
    rig = make_rig(settings, annotate=poison.annotate)
    cfg = rig.cfg
    workload = rig.workload(SequencedSettings(keys=10, seed=81), decorate=sentinels)
    planted = sentinels("poison", 0, random.Random(0))
    chars = poison.largest_string(rig.clients.dynamodb(cfg.source_region), cfg, "Users-probe", extra=planted)

    def mix(done: int) -> None:
        if done in POSITIONS:
            item = poison.poison_item(
                cfg, POSITIONS[done], oversize_chars=chars, data_prefix=sentinels.text, extra=planted
            )
            workload.put(item)

    with running(rig):
        start = rig.injector.clock()
        rig.injector.outage(start + 0.5, start + 2.5)
        workload.run(80, rate=40, before_write=mix)
    queued = rig.failure_messages()
    # WHEN the operator redrives the failure queue and checks the replica
    redrive = rig.redrive(tmp_path / "redrive.json")
    check = rig.operator("check", "--grace-seconds", "0", json_path=tmp_path / "check.json")
    rig.hub.flush()
    metrics = rig.clients.cloudwatch(cfg.source_region).list_metrics()["Metrics"]
    # THEN the failure paths were really taken ...
    assert queued and redrive.code == 1 and check.code == 1, (redrive.output, check.output)
    assert any('"record not replicated"' in line for s in rig.replicator_invocations() for line in s.output)
    assert sum(rig.injector.injected.values()) >= 20 and rig.sandbox.counts
    # ... and the sentinels are where they belong, so the search below can find them ...
    assert sentinel_hits({"source items": [dumped(rig.source_items())]}, sentinels.all)
    # ... but nowhere else
    outputs = {
        f"{name} output": [line for seen in rig.observations.of(name) for line in seen.output]
        for name in (cfg.replicator_function_name, cfg.metrics_function_name)
    }
    captured = capfd.readouterr()
    texts = {
        **outputs,
        "python logging": [caplog.text, *(r.getMessage() for r in caplog.records)],
        "failure-queue messages": [dumped(queued), dumped(rig.failure_messages())],
        "redrive output and report": [redrive.output, dumped(redrive.document)],
        "check output and report": [check.output, dumped(check.document)],
        "metric names and dimensions": [dumped(metrics)],
        "process stdout and stderr": [captured.out, captured.err],
    }
    assert all(texts.values())
    assert sentinel_hits(texts, sentinels.all) == []
