"""The pure write decision: coalescing, filtering, TTL policy, poison classification. No AWS, no fakes."""

from __future__ import annotations

from typing import Any

import pytest

from ddbstream import key_hash, parse_event
from replicator.core import version
from replicator.core.errors import ExcludedKeyAttribute, MalformedInput, MetadataCollision
from replicator.core.plan import Action, plan_batch
from replicator.core.policy import Policy, TtlPolicy
from telemetry.catalogue import SkipReason
from tests.support.events import key, record


def rec(seq: int, name: str, user: str, **image: str) -> dict[str, Any]:
    """A Lambda record of ``user``'s item whose new image adds ``image`` as strings."""
    attributes = {k: {"S": v} for k, v in image.items()}
    return record(seq, name, keys=key(user), attributes=attributes)


def plan(*records: dict[str, Any], policy: Policy | None = None):
    return plan_batch(parse_event({"Records": list(records)}), policy or Policy())


def test_only_the_newest_state_of_each_key_is_written():
    p = plan(rec(1, "INSERT", "a", v="1"), rec(2, "MODIFY", "b", v="1"), rec(3, "MODIFY", "a", v="2"))
    by_user = {w.keys["user_id"]["S"]: w for w in p.writes}
    assert len(p.writes) == 2
    assert by_user["a"].item is not None and by_user["a"].item["v"] == {"S": "2"}
    assert by_user["a"].version == version.encode(3)
    assert [r.sequence for r in by_user["a"].superseded] == [1]
    assert p.record_count == 3


def test_a_delete_after_puts_in_one_batch_becomes_one_delete():
    p = plan(rec(5, "INSERT", "a", v="1"), rec(6, "MODIFY", "a", v="2"), rec(7, "REMOVE", "a"))
    (write,) = p.writes
    assert write.action is Action.DELETE and write.item is None and write.version == version.encode(7)
    assert len(write.superseded) == 2


def test_records_are_ordered_by_sequence_number_not_by_position():
    p = plan(rec(20, "MODIFY", "a", v="new"), rec(10, "MODIFY", "a", v="old"))
    (write,) = p.writes
    assert write.item is not None and write.item["v"] == {"S": "new"}


@pytest.mark.parametrize("policy", [TtlPolicy.SKIP, TtlPolicy.EXPIRE])
def test_ttl_deletes_need_no_write_under_skip_and_expire_and_are_replicated_otherwise(policy):
    ttl = record(9, "REMOVE", keys=key("a"), ttl_delete=True)
    skipped = plan(rec(8, "INSERT", "a", v="1"), ttl, policy=Policy(ttl_policy=policy))
    assert [s.reason for s in skipped.skipped] == [SkipReason.TTL_POLICY]
    assert [w.action for w in skipped.writes] == [Action.PUT]
    replicated = plan(rec(8, "INSERT", "a", v="1"), ttl)
    assert [w.action for w in replicated.writes] == [Action.DELETE]


@pytest.mark.parametrize("policy", [TtlPolicy.SKIP, TtlPolicy.EXPIRE])
def test_user_deletes_are_replicated_whatever_the_ttl_policy(policy):
    p = plan(rec(9, "REMOVE", "a"), policy=Policy(ttl_policy=policy))
    assert [w.action for w in p.writes] == [Action.DELETE]


def test_excluded_and_legacy_global_table_attributes_are_dropped():
    raw = rec(1, "INSERT", "a", email="x@example.com", plan="pro")
    raw["dynamodb"]["NewImage"]["aws:rep:updatetime"] = {"N": "1"}
    (write,) = plan(raw, policy=Policy(exclude_attributes=frozenset({"email"}))).writes
    assert write.item is not None
    assert set(write.item) == {"user_id", "timestamp", "plan"}


def without_keys_in_image() -> dict[str, Any]:
    raw = rec(1, "INSERT", "a")
    raw["dynamodb"]["NewImage"] = {"v": {"S": "1"}}
    return raw


@pytest.mark.parametrize(
    ("raw", "policy", "error", "says", "has_key"),
    [
        pytest.param(
            {**rec(1, "INSERT", "a"), "dynamodb": {**rec(1, "INSERT", "a")["dynamodb"], "NewImage": None}},
            Policy(),
            MalformedInput,
            "has no NewImage; the stream view type must be",
            True,
            id="keys-only-image",
        ),
        pytest.param(
            without_keys_in_image(),
            Policy(),
            MalformedInput,
            "NewImage lacks the record's key attributes",
            True,
            id="image-without-keys",
        ),
        pytest.param(
            rec(1, "INSERT", "a", **{"repl:version": "9"}),
            Policy(),
            MetadataCollision,
            "repl:version",
            True,
            id="collision",
        ),
        pytest.param(
            {
                **rec(1, "INSERT", "a"),
                "dynamodb": {**rec(1, "INSERT", "a")["dynamodb"], "SequenceNumber": "9" * 41},
            },
            Policy(),
            MalformedInput,
            "sequence number has more than 40 digits",
            True,
            id="sequence-too-long",
        ),
        pytest.param(
            {**rec(1, "INSERT", "a"), "eventName": "UPSERT"},
            Policy(),
            MalformedInput,
            "unknown eventName",
            False,
            id="bad-event",
        ),
    ],
)
def test_poison_records_are_rejected_alone_saying_why(raw, policy, error, says, has_key):
    p = plan(rec(0, "INSERT", "z", v="ok"), raw, policy=policy)
    (rejected,) = p.rejected
    assert type(rejected.error) is error
    assert says in str(rejected.error)
    assert rejected.sequence_number == raw["dynamodb"]["SequenceNumber"]
    # the key's hash (never the key) names the rejected record in logs, when the record has a key
    expected_hash = key_hash(raw["dynamodb"]["Keys"]) if has_key else None
    assert rejected.key_hash == expected_hash
    assert [w.keys["user_id"]["S"] for w in p.writes] == ["z"]


def test_excluding_a_key_attribute_rejects_every_record_of_that_table():
    p = plan(
        rec(1, "INSERT", "a"), rec(2, "REMOVE", "b"), policy=Policy(exclude_attributes=frozenset({"user_id"}))
    )
    assert [type(r.error) for r in p.rejected] == [ExcludedKeyAttribute, ExcludedKeyAttribute]
    assert p.writes == ()


def test_a_poison_record_does_not_hide_the_previous_state_of_its_key():
    p = plan(rec(1, "INSERT", "a", v="1"), rec(2, "MODIFY", "a", **{"repl:version": "x"}))
    (write,) = p.writes
    assert write.record.sequence == 1
    assert [r.sequence_number for r in p.rejected] == ["2"]


def test_watermark_and_resume_point_span_the_whole_batch():
    p = plan(rec(30, "MODIFY", "a", v="1"), rec(12, "MODIFY", "b", v="1"), rec(44, "REMOVE", "c"))
    assert p.max_sequence == 44
    assert p.first_sequence_number == "12"


def test_versions_order_like_the_sequence_numbers_they_encode():
    seqs = [111, 999, 1000, 10**21, 10**21 + 1, 10**39]
    assert sorted(seqs, key=version.encode) == seqs
    assert [version.decode(version.encode(s)) for s in seqs] == seqs
    with pytest.raises(ValueError, match="40 digits"):
        version.encode(10**40)


def test_records_after_a_skipped_ttl_delete_are_still_planned():
    ttl = record(1, "REMOVE", keys=key("a"), ttl_delete=True)
    p = plan(
        ttl,
        rec(2, "INSERT", "b", v="1"),
        rec(3, "INSERT", "c", v="1"),
        policy=Policy(ttl_policy=TtlPolicy.SKIP),
    )
    assert sorted(w.keys["user_id"]["S"] for w in p.writes) == ["b", "c"]
    assert p.record_count == 3
