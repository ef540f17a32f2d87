"""Scenario 4: the replica region is down for longer than the retry budget."""

from __future__ import annotations

from faultlab.faults import FaultKind
from faultlab.validate import require_all, table_differences
from tests.support.scenarios import outage_run, redrive


def test_an_outage_beyond_the_retry_budget_is_recovered_by_redrive_with_nothing_lost(make_rig, tmp_path):
    # GIVEN / WHEN the replica region is down for longer than the retry budget
    rig, workload = outage_run(make_rig)
    # THEN the batches written during the outage were given up to the failure queue, in Lambda's
    # format, and the replica is behind the source
    messages = rig.failure_messages()
    assert messages, "no batch reached the failure queue"
    assert {m["requestContext"]["condition"] for m in messages} == {"RetryAttemptsExhausted"}
    assert rig.injector.injected[FaultKind.OUTAGE] >= 10
    assert table_differences(rig.source_items(), rig.replica_items()) != []
    # WHEN the operator redrives the queue once the region is back
    result = redrive(rig, tmp_path)
    # THEN every message was replayed and deleted, record for record
    assert result.code == 0, result.output
    assert rig.failure_messages() == []
    entries = (result.document or {})["messages"]
    assert len(entries) == len(messages) and {e["verdict"] for e in entries} == {"applied"}
    assert sum(e["records"] for e in entries) == sum(m["DDBStreamBatchInfo"]["batchSize"] for m in messages)
    # AND nothing is lost: replica = source, no version went backwards (redrive writes included)
    require_all(rig.problems(workload.model))
