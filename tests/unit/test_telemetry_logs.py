"""Every JSON log line the Lambdas print carries an RFC 3339 timestamp and a level Lambda knows.

Lambda's JSON log format stores a line without a valid ``timestamp`` (or with an unknown
``level``) as INFO (telemetry/logs.py cites the page): an ERROR line would then vanish under an
application log level of WARN.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any, get_args

import pytest

from metrics.handler import Consumer
from metrics.settings import Settings
from replicator.adapters.emit import failure_log_lines
from replicator.core.report import BatchReport, Failure
from telemetry.logs import log_line

AT = dt.datetime(2026, 12, 2, 3, 4, 5, 678_901, tzinfo=dt.UTC)
# RFC 3339 in UTC, milliseconds: what the log lines promise (and what Lambda's own lines look like).
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LAMBDA_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}


def assert_lambda_keeps_its_level(line: dict[str, Any], at: dt.datetime) -> None:
    assert TIMESTAMP.match(line["timestamp"]), line["timestamp"]
    to_the_millisecond = at.replace(microsecond=at.microsecond // 1000 * 1000)
    assert dt.datetime.fromisoformat(line["timestamp"]) == to_the_millisecond
    assert line["level"] in LAMBDA_LEVELS


def test_a_log_line_carries_a_utc_millisecond_timestamp_first():
    # WHEN a line is built at a known instant
    line = log_line("ERROR", "record not replicated", at=AT, request_id="req-1", errorClass="Stale")
    # THEN it starts with the timestamp, in UTC with milliseconds, then level and message
    assert line.startswith('{"timestamp": "2026-12-02T03:04:05.678Z", "level": "ERROR", "message": ')
    assert json.loads(line) == {
        "timestamp": "2026-12-02T03:04:05.678Z",
        "level": "ERROR",
        "message": "record not replicated",
        "errorClass": "Stale",
        "requestId": "req-1",
    }


def test_an_instant_in_another_zone_is_written_in_utc():
    paris = dt.timezone(dt.timedelta(hours=1))
    line = json.loads(log_line("INFO", "m", at=AT.astimezone(paris), request_id=None))
    assert line["timestamp"] == "2026-12-02T03:04:05.678Z"


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        log_line("INFO", "m", at=AT.replace(tzinfo=None), request_id=None)


@pytest.mark.parametrize("key", ["timestamp", "level", "message", "requestId"])
def test_a_field_cannot_overwrite_the_lines_own_keys(key):
    with pytest.raises(ValueError, match=key):
        log_line("INFO", "m", at=AT, request_id=None, **{key: "x"})


def test_the_levels_are_the_ones_lambda_filters_by():
    from telemetry.logs import Level  # noqa: PLC0415 (imported here: a module without it fails this test only)

    assert set(get_args(Level)) == LAMBDA_LEVELS


def test_the_replicators_failure_lines_keep_their_error_level():
    # GIVEN a batch with one failed record
    report = BatchReport(failures=[Failure("101", "k1", "ItemTooLarge", "item over 400 KB")])
    # WHEN its log lines are built
    (line,) = [json.loads(text) for text in failure_log_lines(report, at=AT, request_id="req-2")]
    # THEN Lambda can keep the line at ERROR: a valid timestamp and a level it knows
    assert line["level"] == "ERROR"
    assert_lambda_keeps_its_level(line, AT)


def test_every_log_line_of_the_usage_metrics_consumer_has_a_timestamp_and_a_lambda_level():
    # GIVEN a consumer at a known clock, and a batch with a malformed record and a broken window state
    out = io.StringIO()
    consumer = Consumer(Settings(), out, clock=AT.timestamp)
    event = {
        "Records": [{"eventName": "UPSERT", "dynamodb": {"SequenceNumber": "11"}}],
        "window": {"start": "2026-12-02T03:04:00Z", "end": "2026-12-02T03:05:00Z"},
        "state": {"users": "not json"},
        "isFinalInvokeForWindow": False,
    }
    # WHEN it handles the batch
    consumer.handle(event, None)
    # THEN every line that is not an EMF document is a log line Lambda keeps at its level
    lines = [json.loads(text) for text in out.getvalue().splitlines()]
    logs = [line for line in lines if "_aws" not in line]
    assert {line["level"] for line in logs} == {"ERROR", "WARN", "INFO"}
    for line in logs:
        assert_lambda_keeps_its_level(line, AT)
