"""The validators, the ledger and the sequenced workload on hand-made inputs: each check can fail."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from ddbstream import key_id, primary_key
from deployconfig.config import load as load_config
from faultlab.faults import InvocationFaults
from faultlab.ledger import AcceptedWrite, ReplicaLedger
from faultlab.observations import InvocationSeen
from faultlab.sequenced import SeqOp, SequencedModel, SequencedSettings
from faultlab.validate import (
    accounting_problems,
    failure_destination_problems,
    require,
    sentinel_hits,
    table_differences,
    usage_problems,
    version_problems,
)
from telemetry import catalogue as c
from telemetry.emf import document_lines

KEYS = ("user_id", "timestamp")
A = key_id({"user_id": {"S": "a"}, "timestamp": {"N": "1"}})


def write(order: int, version: int, *, deleted: bool = False, key: str = A) -> AcceptedWrite:
    return AcceptedWrite(order, "PutItem", key, f"{version:040d}", deleted, None, "")


def stored(version: int) -> dict[str, Any]:
    return {"user_id": {"S": "a"}, "timestamp": {"N": "1"}, "repl:version": {"S": f"{version:040d}"}}


def test_versions_must_strictly_increase_and_end_at_what_the_replica_holds():
    assert version_problems([write(0, 1), write(1, 5)], {A: stored(5)}) == []
    assert "went backwards" in version_problems([write(0, 5), write(1, 3)], {A: stored(3)})[0]
    assert "applied twice" in version_problems([write(0, 5), write(1, 5)], {A: stored(5)})[0]
    assert "not its last accepted write" in version_problems([write(0, 5)], {A: stored(4)})[0]
    assert version_problems([write(0, 5, deleted=True)], {}) == []
    assert any(
        "yet the replica holds it" in p for p in version_problems([write(0, 5, deleted=True)], {A: stored(5)})
    )


def test_tables_are_compared_item_by_item_without_the_metadata():
    source = {A: {"user_id": {"S": "a"}, "x": {"N": "1"}}}
    assert table_differences(source, {A: {**source[A], "repl:version": {"S": "1"}}}) == []
    assert table_differences(source, {A: {"user_id": {"S": "a"}, "x": {"N": "2"}}}) == [
        f"{A}: attributes differ: x"
    ]
    assert table_differences(source, {}) == [f"{A}: in the source, missing in the replica"]
    assert table_differences({}, source) == [f"{A}: in the replica, not in the source"]
    assert table_differences(source, {}, exempt=[A]) == []
    with pytest.raises(AssertionError, match="1 problem"):
        require(table_differences(source, {}), "replica")


def invocation(request_id: str, lines: list[str], *, records: int, failed: bool = False) -> InvocationSeen:
    return InvocationSeen("f", request_id, 0.0, records, failed, None, tuple(lines), None)


def emf(namespace: str, **values: float) -> list[str]:
    specs = {spec.name: spec for spec in (*c.REPLICATOR_METRICS, *c.USAGE_METRICS)}
    return document_lines(namespace, {"TableName": "Users"}, [(specs[name], v) for name, v in values.items()])


def test_the_replicator_metrics_must_account_for_every_record_and_acknowledged_write():
    lines = emf("R", RecordsReplicated=3, RecordsSkipped=2, RecordsFailed=1, ReplicaThrottles=4)
    faults = {"r1": InvocationFaults("r1", acknowledged_writes=3, throttles=4)}
    check = accounting_problems
    assert check([invocation("r1", lines, records=6)], faults, {}, namespace="R", table="Users") == []
    assert check([invocation("r1", lines, records=4)], faults, {"r1": 2}, namespace="R", table="Users") == []
    assert (
        "!= 7 records"
        in check([invocation("r1", lines, records=7)], faults, {}, namespace="R", table="Users")[0]
    )
    wrong = {"r1": InvocationFaults("r1", acknowledged_writes=2, throttles=3)}
    found = check([invocation("r1", lines, records=6)], wrong, {}, namespace="R", table="Users")
    assert len(found) == 2 and "acknowledged" in found[0] and "throttles injected" in found[1]
    assert (
        check([invocation("r1", [], records=6, failed=True)], faults, {}, namespace="R", table="Users") == []
    )


def test_item_changes_must_equal_the_writes_apart_from_what_failed_invocations_published():
    good = invocation("m1", emf("U", ItemChanges=5), records=5)
    crashed = invocation("m2", emf("U", ItemChanges=2), records=2, failed=True)
    again = invocation("m3", emf("U", ItemChanges=2), records=2)
    assert usage_problems([good, crashed, again], namespace="U", table="Users", writes=7) == []
    assert usage_problems([good, again], namespace="U", table="Users", writes=8) != []


def test_sentinels_are_found_as_text_and_as_base64():
    secret, blob = "SENTINEL-abc", b"\x00SENTINEL-BYTES"
    texts = {"logs": ["nothing here", f"oops {secret}"], "sqs": [base64.b64encode(blob).decode()]}
    hits = sentinel_hits(texts, [secret, blob])
    assert len(hits) == 2 and {h.split(":")[0] for h in hits} == {"logs", "sqs"}
    assert all(secret not in hit for hit in hits)
    assert sentinel_hits({"logs": ["clean"]}, [secret, blob]) == []


def test_every_queued_message_must_be_redriven_or_kept_with_an_error_class():
    queued: dict[str, Any] = {"m1": {}, "m2": {}}
    report = {
        "messages": [
            {"messageId": "m1", "verdict": "applied", "records": 3},
            {"messageId": "m2", "verdict": "failed", "errors": {"ItemTooLarge": 1}},
        ]
    }
    assert failure_destination_problems(queued, report, depth_after=1) == []
    assert "it kept 1" in failure_destination_problems(queued, report, depth_after=2)[0]
    assert "not in the redrive report" in failure_destination_problems({**queued, "m3": {}}, report, 1)[0]
    silent = {"messages": [{"messageId": "m1", "verdict": "incomplete"}]}
    assert "without an error class" in failure_destination_problems({"m1": {}}, silent, 1)[0]


# -- the ledger ------------------------------------------------------------------------------------


def request(
    operation: str, body: dict[str, Any], *, region: str = "eu-west-1"
) -> tuple[dict[str, Any], bytes]:
    environ = {
        "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{operation}",
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=testing/20261129/{region}/dynamodb/aws4_request",
        "HTTP_X_LOCALRUN_ORIGIN": "fn/req-1",
    }
    return environ, json.dumps(body).encode()


def test_the_ledger_records_accepted_writes_of_the_replica_table_only():
    ledger = ReplicaLedger(region="eu-west-1", table="Users", key_names=KEYS)
    item = {**stored(7), "seq": {"N": "3"}}
    ledger(*request("PutItem", {"TableName": "Users", "Item": item}), 200)
    ledger(*request("PutItem", {"TableName": "Users", "Item": item}), 400)  # condition failed
    ledger(*request("PutItem", {"TableName": "Users", "Item": item}, region="us-east-1"), 200)  # the source
    ledger(*request("PutItem", {"TableName": "Users-replication-state", "Item": item}), 200)
    transaction = {
        "TransactItems": [
            {
                "Delete": {
                    "TableName": "Users",
                    "Key": {"user_id": {"S": "a"}, "timestamp": {"N": "1"}},
                    "ExpressionAttributeValues": {":v": {"S": f"{9:040d}"}},
                }
            },
            {"Put": {"TableName": "Users-replication-state", "Item": {"pk": {"S": "t#x"}}}},
        ]
    }
    ledger(*request("TransactWriteItems", transaction), 200)
    writes = ledger.writes()
    assert [(w.operation, w.key, int(w.version or 0), w.deleted, w.seq, w.origin) for w in writes] == [
        ("PutItem", A, 7, False, "3", "fn/req-1"),
        ("TransactWriteItems", A, 9, True, None, "fn/req-1"),
    ]
    assert version_problems(writes, {}) == []


# -- the sequenced workload ------------------------------------------------------------------------


def test_the_sequenced_workload_numbers_each_keys_writes_and_knows_the_final_state():
    cfg = load_config()
    model = SequencedModel(cfg, SequencedSettings(keys=3, seed=4))
    writes = [model.next_write() for _ in range(60)]
    again = SequencedModel(cfg, SequencedSettings(keys=3, seed=4))
    assert [w.item for w in writes] == [again.next_write().item for _ in range(60)]
    per_key: dict[str, list[int]] = {}
    for w in writes:
        per_key.setdefault(key_id(primary_key(w.key, KEYS)), []).append(w.seq)
        assert w.item is None or w.item["seq"] == {"N": str(w.seq)}
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in per_key.values())
    assert set(model.counts) == set(SeqOp) and model.writes == 60
    last = {key_id(primary_key(w.key, KEYS)): w for w in writes}
    assert model.expected() == {k: w.item for k, w in last.items() if w.item is not None}
