"""DynamoDB's capacity rules as the cost benchmark prices requests (bench/capacity.py). Pure."""

from __future__ import annotations

import pytest

from bench.capacity import Answer, Kind, Touch, Units, UnpricedOperation, answer_of, price, read_units

KB = 1024
OK, FAILED, REFUSED = Answer.SUCCEEDED, Answer.CONDITION_FAILED, Answer.REFUSED


@pytest.mark.parametrize(
    ("operation", "touch", "answer", "units"),
    [
        pytest.param("PutItem", Touch(Kind.PUT, None, 500), OK, 1, id="new-small-item"),
        pytest.param("PutItem", Touch(Kind.PUT, None, KB), OK, 1, id="exactly-1-kb"),
        pytest.param("PutItem", Touch(Kind.PUT, None, KB + 1), OK, 2, id="one-byte-over-1-kb"),
        pytest.param("PutItem", Touch(Kind.PUT, 1536, 500), OK, 2, id="replacing-a-larger-item"),
        pytest.param("PutItem", Touch(Kind.PUT, 3 * KB, 500), FAILED, 3, id="failed-condition-existing"),
        pytest.param("PutItem", Touch(Kind.PUT, None, 3 * KB), FAILED, 1, id="failed-condition-absent"),
        pytest.param("DeleteItem", Touch(Kind.DELETE, 2560), OK, 3, id="delete-the-deleted-size"),
        pytest.param("DeleteItem", Touch(Kind.DELETE, None), OK, 1, id="delete-absent"),
        pytest.param("UpdateItem", Touch(Kind.UPDATE, 900, 1100), OK, 2, id="update-larger-after"),
        pytest.param("UpdateItem", Touch(Kind.UPDATE, 2100, 100), OK, 3, id="update-larger-before"),
        pytest.param("PutItem", Touch(Kind.PUT, None, 500), REFUSED, 0, id="throttled-costs-nothing"),
    ],
)
def test_standard_writes_cost_one_unit_per_kb_of_the_larger_item(operation, touch, answer, units):
    # GIVEN one standard write WHEN it is priced THEN its write units follow DynamoDB's rule
    assert price(operation, [touch], answer) == Units(write=units)


def test_a_transactional_write_costs_two_units_per_kb_per_action_condition_checks_included():
    # GIVEN the guarded put: a 0.5 KB Put and a ConditionCheck of an absent tombstone
    actions = [Touch(Kind.PUT, None, 500), Touch(Kind.CHECK, None)]
    # WHEN priced, committed or cancelled by a condition
    committed = price("TransactWriteItems", actions, OK)
    cancelled = price("TransactWriteItems", actions, FAILED)
    # THEN 2 x 1 for each action, both times (a cancelled transaction is priced like a committed one)
    assert committed == cancelled == Units(write=4)


def test_the_old_transactional_delete_costs_its_deleted_items_size_twice_plus_the_tombstone():
    actions = [Touch(Kind.DELETE, 1536), Touch(Kind.PUT, None, 120)]
    assert price("TransactWriteItems", actions, OK) == Units(write=2 * 2 + 2 * 1)


def test_batch_reads_round_each_item_up_on_its_own_and_a_missing_item_still_costs_one():
    # GIVEN a consistent BatchGetItem of three 1 KB items, one 5 KB item and one missing key
    reads = [Touch(Kind.READ, KB)] * 3 + [Touch(Kind.READ, 5 * KB), Touch(Kind.READ, None)]
    # THEN 1 + 1 + 1 + 2 + 1 read units (not one unit for the 3 KB together)
    assert price("BatchGetItem", reads, OK) == Units(read=6)


@pytest.mark.parametrize(
    ("size", "consistent", "units"),
    [(0, True, 1.0), (4 * KB, True, 1.0), (4 * KB + 1, True, 2.0), (5 * KB, False, 1.0), (100, False, 0.5)],
)
def test_reads_cost_one_unit_per_4_kb_strongly_consistent_and_half_eventually(size, consistent, units):
    assert read_units(size, consistent=consistent) == units


def test_write_unit_equivalents_add_reads_at_a_fifth_of_a_write():
    assert Units(write=1.0, read=1.0).equivalents == pytest.approx(1.2)
    assert Units(write=106, read=85).per(100) == Units(write=1.06, read=0.85)


@pytest.mark.parametrize(
    ("status", "parsed", "answer"),
    [
        pytest.param(200, {}, OK, id="success"),
        pytest.param(400, {"Error": {"Code": "ConditionalCheckFailedException"}}, FAILED, id="condition"),
        pytest.param(
            400,
            {
                "Error": {"Code": "TransactionCanceledException"},
                "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}],
            },
            FAILED,
            id="transaction-cancelled-by-a-condition",
        ),
        pytest.param(
            400,
            {
                "Error": {"Code": "TransactionCanceledException"},
                "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
            },
            REFUSED,
            id="transaction-conflict",
        ),
        pytest.param(
            400, {"Error": {"Code": "ProvisionedThroughputExceededException"}}, REFUSED, id="throttled"
        ),
    ],
)
def test_the_answer_says_whether_the_request_was_billed(status, parsed, answer):
    assert answer_of(status, parsed) is answer


def test_an_operation_without_a_rule_is_refused_rather_than_priced_at_zero():
    with pytest.raises(UnpricedOperation, match="no capacity rule for Scan"):
        price("Scan", [], OK)
