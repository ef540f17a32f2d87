"""The local event source mapping against moto's stream: each Lambda behaviour in its own test."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ddbstream import parse_event
from localrun.esm import CheckpointStore, EventSourceMapping, MappingSettings, StartingPosition
from localrun.esm.window import MAX_STATE_BYTES
from tests.support.aws import put_items
from tests.support.esm import Recorder
from tests.support.mapping import FUNCTION, drive


def fast(**settings: Any) -> MappingSettings:
    """Mapping settings that poll on every tick (tests drive the loop themselves)."""
    return MappingSettings(poll_interval_seconds=0, **settings)


def _checkpoint(mapping: EventSourceMapping) -> str | None:
    (shard,) = mapping.shards
    return mapping.checkpoints.position(mapping.key, shard)


def test_records_reach_the_function_exactly_as_lambda_shapes_them(regions, make_mapping):
    # GIVEN three writes, and the same records read independently and shaped by the shared shaper
    put_items(regions, 3)
    expected = regions.tap.read()
    handler = Recorder()
    # WHEN the mapping runs
    drive(make_mapping(handler))
    # THEN the function got one event with exactly those records, which the handlers can parse
    assert handler.events == [{"Records": expected}]
    assert len(parse_event(handler.events[0]).records) == 3


def test_batch_size_limits_each_invocation(regions, make_mapping):
    put_items(regions, 25)
    handler = Recorder()
    drive(make_mapping(handler, settings=fast(batch_size=10)))
    assert [len(batch) for batch in handler.batches] == [10, 10, 5]


def test_batching_window_waits_for_more_records(regions, make_mapping, clock):
    # GIVEN a 30-second batching window and fewer records than a batch
    handler = Recorder()
    mapping = make_mapping(handler, settings=fast(batch_size=100, batching_window_seconds=30))
    put_items(regions, 3)
    drive(mapping, 5)
    assert handler.events == []
    # WHEN more records arrive and the window passes
    put_items(regions, 2, start=3)
    drive(mapping, 5)
    clock.advance(31)
    drive(mapping, 5)
    # THEN all of them go in one invocation
    assert [len(batch) for batch in handler.batches] == [5]


def test_partial_batch_failure_resumes_from_the_lowest_failed_sequence_number(regions, make_mapping, clock):
    # GIVEN a function that reports records 3 and 5 (of 0..6) as failed the first time
    put_items(regions, 7)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in regions.tap.read()]

    def respond(event, context):
        if len(handler.events) == 1:
            return {"batchItemFailures": [{"itemIdentifier": seqs[5]}, {"itemIdentifier": seqs[3]}]}
        return {"batchItemFailures": []}

    handler = Recorder(respond)
    settings = fast(report_batch_item_failures=True, max_retry_attempts=3)
    mapping = make_mapping(handler, settings=settings, backoff=lambda retries: 10.0)
    drive(mapping, 3)
    # THEN the records before the lowest failure are checkpointed ...
    assert _checkpoint(mapping) == seqs[2]
    clock.advance(10)
    drive(mapping, 3)
    # ... and delivery resumes at record 3: record 4, which succeeded, comes again
    assert handler.batches == [seqs, seqs[3:]]
    assert _checkpoint(mapping) == seqs[6]


def test_an_invalid_item_identifier_retries_the_whole_batch(regions, make_mapping, clock):
    put_items(regions, 4)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in regions.tap.read()]
    handler = Recorder({"batchItemFailures": [{"itemIdentifier": ""}]})
    settings = fast(report_batch_item_failures=True, bisect_on_error=True)
    mapping = make_mapping(handler, settings=settings, backoff=lambda retries: 10.0)
    drive(mapping, 2)
    handler.respond = None
    clock.advance(10)
    drive(mapping)
    # No bisection: the function answered; the same whole batch is delivered again.
    assert handler.batches == [seqs, seqs]


def test_a_function_error_bisects_the_batch_until_the_bad_record_is_alone(
    regions, make_mapping, failure_queue
):
    # GIVEN eight records, one of which always makes the function raise
    put_items(regions, 8)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in regions.tap.read()]
    poison = seqs[5]

    def respond(event, context):
        if any(r["dynamodb"]["SequenceNumber"] == poison for r in event["Records"]):
            raise RuntimeError("cannot process")
        return None

    handler = Recorder(respond)
    settings = fast(bisect_on_error=True, max_retry_attempts=2)
    drive(make_mapping(handler, settings=settings, queue=failure_queue), 40)
    # THEN the batch is halved around the bad record, which alone uses up its retries
    assert handler.batches == [
        seqs,
        seqs[:4],
        seqs[4:],
        seqs[4:6],
        seqs[4:5],
        seqs[5:6],
        [poison],
        [poison],
        seqs[6:],
    ]
    (message,) = failure_queue.messages()
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (poison, poison, 1)


def test_exhausted_retries_send_lambdas_failure_message_to_the_sqs_queue(
    regions, make_mapping, failure_queue
):
    # GIVEN a function that always fails, two retries allowed, no bisection
    put_items(regions, 3)
    raws = regions.tap.read()
    handler = Recorder(lambda event, ctx: (_ for _ in ()).throw(ValueError("down")))
    mapping = make_mapping(handler, settings=fast(max_retry_attempts=2), queue=failure_queue)
    drive(mapping, 10)
    # THEN one initial invoke and two retries, then one message in Lambda's format, and the batch is skipped
    assert len(handler.events) == 3
    (message,) = failure_queue.messages()
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert (
        message["requestContext"]["functionArn"]
        == f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
    )
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert message["version"] == "1.0"
    info = message["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == raws[0]["dynamodb"]["SequenceNumber"]
    assert info["endSequenceNumber"] == raws[-1]["dynamodb"]["SequenceNumber"]
    assert info["batchSize"] == 3
    assert info["streamArn"] == regions.stream_arn
    assert info["shardId"] == mapping.shards[0]
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert _checkpoint(mapping) == raws[-1]["dynamodb"]["SequenceNumber"]
    # AND later records are processed normally
    handler.respond = None
    put_items(regions, 1, start=10)
    drive(mapping, 3)
    assert len(handler.events[-1]["Records"]) == 1


def test_records_older_than_the_maximum_age_are_discarded_without_an_invoke(
    regions, make_mapping, failure_queue, clock
):
    put_items(regions, 2)
    clock.advance(120)  # the records are now two minutes old
    handler = Recorder()
    settings = fast(max_record_age_seconds=60)
    drive(make_mapping(handler, settings=settings, queue=failure_queue), 3)
    assert handler.events == []
    (message,) = failure_queue.messages()
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0
    assert message["DDBStreamBatchInfo"]["batchSize"] == 2


def test_a_timeout_fails_the_invocation_and_its_late_answer_is_ignored(regions, make_mapping, failure_queue):
    put_items(regions, 1)

    def slow(event, context):
        assert context.get_remaining_time_in_millis() <= 200
        time.sleep(0.5)
        return {"batchItemFailures": []}

    handler = Recorder(slow)
    settings = fast(max_retry_attempts=0, report_batch_item_failures=True)
    drive(make_mapping(handler, settings=settings, timeout=0.2, queue=failure_queue), 3)
    (message,) = failure_queue.messages()
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert len(handler.events) == 1


def test_tumbling_window_state_flows_between_invokes_and_ends_with_a_final_invoke(
    regions, make_mapping, clock
):
    # GIVEN a windowed mapping and a function that counts records in its state
    def count(event, context):
        if event["isFinalInvokeForWindow"]:
            return {"state": {}}
        return {"state": {"count": event["state"].get("count", 0) + len(event["Records"])}}

    handler = Recorder(count)
    settings = fast(tumbling_window_seconds=900, batch_size=2)
    mapping = make_mapping(handler, settings=settings)
    put_items(regions, 3)
    drive(mapping, 5)
    # THEN each invoke carries the window, the shard, and the state the previous one returned
    first, second = handler.events
    assert first["state"] == {} and second["state"] == {"count": 2}
    assert first["window"] == second["window"]
    assert first["shardId"] == mapping.shards[0] and first["eventSourceARN"] == regions.stream_arn
    assert not first["isFinalInvokeForWindow"] and not first["isWindowTerminatedEarly"]
    # AND the checkpoint waits for the window to end
    assert _checkpoint(mapping) is None
    # WHEN the window's end passes
    clock.advance(900)
    drive(mapping, 3)
    # THEN one final invoke with no records and the whole window's state, then the checkpoint moves
    final = handler.events[2]
    assert (final["Records"], final["isFinalInvokeForWindow"], final["state"]) == ([], True, {"count": 3})
    assert len(handler.events) == 3
    assert _checkpoint(mapping) is not None


def test_a_record_of_the_next_window_closes_the_current_one_first(regions, make_mapping, clock):
    handler = Recorder(lambda event, ctx: {"state": {"n": len(event["Records"])}})
    settings = fast(tumbling_window_seconds=1)
    mapping = make_mapping(handler, settings=settings)
    put_items(regions, 1)
    drive(mapping, 2)
    time.sleep(1.05)  # the next record is created in the next one-second window
    put_items(regions, 1, start=1)
    drive(mapping, 4)
    kinds = [(len(e["Records"]), e["isFinalInvokeForWindow"]) for e in handler.events[:3]]
    assert kinds == [(1, False), (0, True), (1, False)]
    assert handler.events[0]["window"] != handler.events[2]["window"]


def test_state_over_one_megabyte_terminates_the_window_early(regions, make_mapping):
    big = "x" * (MAX_STATE_BYTES + 10)

    def respond(event, context):
        return {"state": {"blob": big}} if len(handler.events) == 1 else {"state": {"ok": True}}

    handler = Recorder(respond)
    mapping = make_mapping(handler, settings=fast(tumbling_window_seconds=900, batch_size=1))
    put_items(regions, 2)
    drive(mapping, 6)
    first, final, third = handler.events[:3]
    assert len(first["Records"]) == 1
    assert (final["isFinalInvokeForWindow"], final["isWindowTerminatedEarly"], final["Records"]) == (
        True,
        True,
        [],
    )
    # The same window then continues with a fresh state.
    assert third["window"] == first["window"] and third["state"] == {}


@pytest.mark.parametrize("persisted", [True, False], ids=["file", "memory"])
def test_a_restarted_mapping_resumes_after_its_checkpoint(regions, make_mapping, tmp_path, persisted):
    path = tmp_path / "checkpoints.json"
    put_items(regions, 4)
    first = Recorder()
    store = CheckpointStore(path if persisted else None)
    drive(make_mapping(first, checkpoints=store))
    put_items(regions, 2, start=4)
    # WHEN a new runner starts from the saved checkpoints
    second = Recorder()
    drive(make_mapping(second, checkpoints=CheckpointStore(path) if persisted else store))
    # THEN it sees only what the first one had not processed
    assert [len(b) for b in first.batches] == [4]
    assert [len(b) for b in second.batches] == [2]


def test_starting_position_latest_skips_what_was_written_before(regions, make_mapping):
    put_items(regions, 3)
    handler = Recorder()
    mapping = make_mapping(handler, settings=fast(starting_position=StartingPosition.LATEST))
    drive(mapping, 2)
    put_items(regions, 1, start=3)
    drive(mapping, 2)
    assert [len(b) for b in handler.batches] == [1]
