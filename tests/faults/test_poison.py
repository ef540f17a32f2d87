"""Scenario 5: poison records mixed into good ones."""

from __future__ import annotations

import datetime as dt

from ddbstream import key_id
from faultlab import poison
from faultlab.poison import Poison
from faultlab.rig import FaultRig, RigSettings
from faultlab.sequenced import SequencedSettings, SequencedWorkload
from faultlab.validate import failure_destination_problems, require_all, table_differences
from tests.support.rig import failure_log, running, stream_records

RETRIES = 2
TIMEOUT = 3.0
# Where the poison records go among 60 good writes.
POSITIONS = {
    8: Poison.OVERSIZE,
    21: Poison.KEY_TYPE,
    33: Poison.MALFORMED,
    45: Poison.KEYS_ONLY,
    52: Poison.METADATA,
}


def poisoned_run(make_rig) -> tuple[FaultRig, SequencedWorkload, dict[str, Poison]]:
    """60 good writes over 10 keys with the five kinds of poison record among them, batches of 10,
    two retries; returns the rig, the workload and the poison records' sequence numbers."""
    rig = make_rig(
        RigSettings(seed=51, batch_size=10, max_retry_attempts=RETRIES, function_timeout=TIMEOUT),
        annotate=poison.annotate,
    )
    cfg = rig.cfg
    chars = poison.largest_string(rig.clients.dynamodb(cfg.source_region), cfg, "Users-probe")
    workload = rig.workload(SequencedSettings(keys=10, seed=51))

    def mix(done: int) -> None:
        if done in POSITIONS:
            workload.put(poison.poison_item(cfg, POSITIONS[done], oversize_chars=chars))

    workload.run(60, before_write=mix)
    with running(rig):
        pass
    kinds = {
        r["dynamodb"]["SequenceNumber"]: Poison(r["dynamodb"]["NewImage"][poison.MARKER]["S"])
        for r in stream_records(rig)
        if poison.MARKER in r["dynamodb"].get("NewImage", {})
    }
    assert len(kinds) == len(POSITIONS)
    return rig, workload, kinds


def test_poison_records_are_isolated_and_reach_the_failure_destination_with_their_error_class(make_rig):
    # GIVEN / WHEN good records with poison ones among them go through the replicator
    rig, workload, kinds = poisoned_run(make_rig)
    # THEN each poison record was reported once per delivery with its error class, nothing else failed
    reported = {(line["sequenceNumber"], line["errorClass"]) for line in failure_log(rig)}
    assert reported == {(seq, poison.ERROR_CLASS[kind]) for seq, kind in kinds.items()}
    # AND each reached the failure destination: its sequence number is in a message's range, and each
    # message starts at a poison record (the records before it in its batch were checkpointed)
    messages = [m["DDBStreamBatchInfo"] for m in rig.failure_messages()]
    for seq in kinds:
        assert any(int(m["startSequenceNumber"]) <= int(seq) <= int(m["endSequenceNumber"]) for m in messages)
    assert {m["startSequenceNumber"] for m in messages} <= set(kinds)
    # AND the good records were applied: replica = source apart from the poison keys, none of which is
    # in the replica; versions and metrics as everywhere else
    poison_keys = {key_id(poison.poison_key(rig.cfg, kind)) for kind in kinds.values()}
    require_all(rig.problems(workload.model, exempt=poison_keys))
    assert not poison_keys & rig.replica_items().keys()


def test_a_poison_record_holds_its_shard_up_only_within_the_configured_bounds(make_rig):
    rig, _, kinds = poisoned_run(make_rig)
    bound = (RETRIES + 1) * TIMEOUT + sum(min(0.4, 0.05 * 2 ** (n - 1)) for n in range(1, RETRIES + 1))
    first_seen: dict[str, float] = {}
    for delivery in rig.sandbox.deliveries:
        for seq in delivery.sequences:
            first_seen.setdefault(seq, delivery.started)
    for message in rig.failure_messages():
        info = message["DDBStreamBatchInfo"]
        # THEN it was given up after the configured retries: one invocation plus MaximumRetryAttempts
        assert message["requestContext"]["approximateInvokeCount"] == RETRIES + 1
        assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
        # AND within (retries + 1) x timeout + the retries' backoff of its first delivery
        discarded = dt.datetime.fromisoformat(message["timestamp"]).timestamp()
        assert discarded - first_seen[info["startSequenceNumber"]] <= bound
    assert len(rig.failure_messages()) >= 1 and kinds


def test_redrive_replays_what_was_only_broken_in_delivery_and_reports_real_poison_by_class(
    make_rig, tmp_path
):
    # GIVEN the poisoned run, its failure queue holding one message per poison record
    rig, workload, _ = poisoned_run(make_rig)
    queued = rig.queued_messages()
    # WHEN the operator redrives it (the stream holds the records as written, not as broken in delivery)
    result = rig.redrive(tmp_path / "redrive.json")
    # THEN messages whose records are good in the stream were applied and deleted; those with real
    # poison (too large, or an attribute named like the metadata) were kept and reported by class
    assert result.code == 1, result.output
    entries = (result.document or {})["messages"]
    assert len(entries) == len(queued)
    kept = [e for e in entries if e["verdict"] != "applied"]
    classes = {name for e in kept for name in e.get("errors", {})}
    assert classes == {poison.ERROR_CLASS[kind] for kind in poison.STAYS_POISON}
    assert failure_destination_problems(queued, result.document or {}, rig.queue_depth()) == []
    # AND everything but the real poison is now in the replica, exactly
    real = {key_id(poison.poison_key(rig.cfg, kind)) for kind in poison.STAYS_POISON}
    require_all(rig.problems(workload.model, exempt=real))
    assert not real & rig.replica_items().keys()
    assert table_differences(rig.source_items(), rig.replica_items(), exempt=real) == []
