"""The event source mapping's pure rules: judging responses, cutting batches, the failure message."""

from __future__ import annotations

import pytest

from localrun.esm.batches import batch_is_ready, batch_length, expired_prefix, halves, window_start
from localrun.esm.failure import Condition, failure_message
from localrun.esm.outcome import UNHANDLED, Outcome, Verdict, judge
from localrun.esm.settings import EsmConfigError, MappingSettings
from localrun.invoke.function import MARSHAL_ERROR, TIMEOUT_ERROR, Invocation
from tests.support.esm import answered, raised, record
from tests.support.events import STREAM_ARN

BATCH = [record(10 + i) for i in range(5)]
SEQ = [r.sequence_number for r in BATCH]


def _judge(invocation: Invocation, *, report: bool = True, windowed: bool = False) -> Outcome:
    return judge(invocation, BATCH, report_batch_item_failures=report, windowed=windowed)


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(None, id="null-response"),
        pytest.param({}, id="empty-response"),
        pytest.param({"batchItemFailures": None}, id="null-list"),
        pytest.param({"batchItemFailures": []}, id="empty-list"),
    ],
)
def test_these_responses_mean_complete_success(response):
    outcome = _judge(answered(response))
    assert outcome.verdict is Verdict.SUCCESS
    assert outcome.retry_from == len(BATCH)


def test_partial_failure_resumes_at_the_lowest_failed_sequence_number():
    # GIVEN failures reported out of order
    response = {"batchItemFailures": [{"itemIdentifier": SEQ[3]}, {"itemIdentifier": SEQ[1]}]}
    # WHEN judged
    outcome = _judge(answered(response))
    # THEN processing resumes at the earliest one, and it is not a function error (no bisect)
    assert outcome.verdict is Verdict.PARTIAL
    assert outcome.retry_from == 1
    assert outcome.function_error is None
    assert not outcome.bisectable


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"itemIdentifier": ""}, id="empty-identifier"),
        pytest.param({"itemIdentifier": None}, id="null-identifier"),
        pytest.param({"itemId": SEQ[2]}, id="wrong-key-name"),
        pytest.param({"itemIdentifier": "999999999999999999999999"}, id="not-in-batch"),
        pytest.param({"itemIdentifier": int(SEQ[2])}, id="number-not-string"),
        pytest.param("oops", id="not-an-object"),
    ],
)
def test_an_unusable_item_identifier_fails_the_whole_batch(failure):
    outcome = _judge(answered({"batchItemFailures": [{"itemIdentifier": SEQ[4]}, failure]}))
    assert outcome.verdict is Verdict.FAILED
    assert outcome.retry_from == 0
    assert not outcome.bisectable  # the function answered: this is not an invocation error


def test_without_report_batch_item_failures_the_response_is_ignored():
    outcome = _judge(answered({"batchItemFailures": [{"itemIdentifier": SEQ[0]}]}), report=False)
    assert outcome.verdict is Verdict.SUCCESS


@pytest.mark.parametrize("error", ["ValueError", TIMEOUT_ERROR, MARSHAL_ERROR])
def test_an_invocation_error_is_unhandled_and_bisectable(error):
    outcome = _judge(raised(error))
    assert (outcome.verdict, outcome.function_error, outcome.bisectable) == (Verdict.FAILED, UNHANDLED, True)


def test_a_tumbling_window_response_without_state_is_a_failed_invocation():
    assert _judge(answered({"batchItemFailures": []}), windowed=True).verdict is Verdict.FAILED
    outcome = _judge(answered({"state": {"n": 5}}), windowed=True)
    assert outcome.verdict is Verdict.SUCCESS
    assert outcome.state == {"n": 5}


def test_a_batch_holds_at_most_batch_size_records():
    settings = MappingSettings(batch_size=3)
    assert batch_length(BATCH, settings, now=0) == 3


def test_a_batch_stays_under_the_invocation_payload_limit():
    big = [record(i, size=400_000) for i in range(40)]
    count = batch_length(big, MappingSettings(batch_size=100), now=0)
    assert count * 400_000 < 6 * 1024 * 1024 < (count + 1) * 400_000 + 1024


def test_a_batch_never_spans_two_tumbling_windows():
    # GIVEN records created at 58 s and 59 s, then at 61 s (windows of 60 s)
    pending = [record(1, 1_700_000_038.0), record(2, 1_700_000_039.0), record(3, 1_700_000_041.0)]
    assert window_start(1_700_000_039.0, 60, now=0) != window_start(1_700_000_041.0, 60, now=0)
    # THEN the first batch stops at the window boundary
    assert batch_length(pending, MappingSettings(tumbling_window_seconds=60), now=0) == 2


def test_the_batching_window_waits_until_full_or_expired():
    settings = MappingSettings(batch_size=10, batching_window_seconds=5)
    few = BATCH[:3]
    assert not batch_is_ready(few, settings, now=103, first_buffered_at=100)
    assert batch_is_ready(few, settings, now=105, first_buffered_at=100)
    assert batch_is_ready([record(i) for i in range(10)], settings, now=100, first_buffered_at=100)


def test_without_a_batching_window_any_records_go_at_once():
    assert batch_is_ready(BATCH[:1], MappingSettings(), now=100, first_buffered_at=100)


def test_bisection_splits_in_two_halves():
    first, second = halves(BATCH)
    assert [r.sequence for r in first] == [10, 11, 12]
    assert [r.sequence for r in second] == [13, 14]


def test_only_leading_records_older_than_the_maximum_age_expire():
    records = [record(1, 1000.0), record(2, 1030.0), record(3, 1100.0)]
    assert expired_prefix(records, now=1100.0, max_age_seconds=60) == 2
    assert expired_prefix(records, now=1100.0, max_age_seconds=-1) == 0


def test_mapping_parameters_are_checked_against_lambdas_limits():
    with pytest.raises(EsmConfigError, match="BatchSize"):
        MappingSettings(batch_size=0)
    with pytest.raises(EsmConfigError, match="MaximumRecordAgeInSeconds"):
        MappingSettings(max_record_age_seconds=10)


def test_the_failure_message_has_lambdas_exact_shape():
    records = [record(5, 1_573_690_399.0), record(9, 1_573_690_400.0)]
    message = failure_message(
        records=records,
        condition=Condition.RETRY_ATTEMPTS_EXHAUSTED,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:Users-replicator",
        request_id="req-7",
        invoke_count=3,
        function_error=UNHANDLED,
        shard_id="shardId-1",
        stream_arn=STREAM_ARN,
        now=1_573_690_429.717,
    )
    assert message == {
        "requestContext": {
            "requestId": "req-7",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:Users-replicator",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 3,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2019-11-14T00:13:49.717Z",
        "DDBStreamBatchInfo": {
            "shardId": "shardId-1",
            "startSequenceNumber": records[0].sequence_number,
            "endSequenceNumber": records[1].sequence_number,
            "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:13:20Z",
            "batchSize": 2,
            "streamArn": STREAM_ARN,
        },
    }
