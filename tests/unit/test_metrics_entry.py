"""The usage-metrics entry point follows the replicator's idiom: settings read once into a frozen value,
``create_handler(environ)``, one handler per container, and output built purely then written once."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from metrics import handler as entry
from metrics.handler import Consumer, create_handler
from metrics.settings import Settings

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2026-01-01T00:00:00.000"


class CountingOut(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def malformed(sequence_number: str) -> dict[str, Any]:
    return {
        "eventName": "UPSERT",
        "eventSourceARN": STREAM_ARN,
        "dynamodb": {"Keys": {"user_id": {"S": "SECRET-USER"}}, "SequenceNumber": sequence_number},
    }


def test_an_invocation_writes_its_documents_and_log_lines_at_once():
    # GIVEN a consumer writing to a stream that counts writes, and a batch of malformed records
    out = CountingOut()
    now = time.time()
    consumer = Consumer(Settings(), out, clock=lambda: now)
    # WHEN it handles the batch
    response = consumer.handle({"Records": [malformed("11"), malformed("12")]}, None)
    # THEN one write holds the log line and the EMF documents, and the response is empty
    assert response == {"batchItemFailures": []}
    assert out.writes == 1
    lines = out.getvalue().splitlines()
    (warning,) = [json.loads(line) for line in lines if '"level": "WARN"' in line]
    assert warning["count"] == 2 and warning["sequenceNumbers"] == ["11", "12"]
    (summary,) = [json.loads(line) for line in lines if '"level": "INFO"' in line]
    assert (summary["records"], summary["counted"], summary["duplicates"]) == (2, 0, 0)
    assert any('"MalformedRecords"' in line for line in lines)
    # AND nothing of an item reached the output
    assert "SECRET-USER" not in out.getvalue()


def test_the_entry_point_builds_one_handler_per_container_from_the_environment(monkeypatch, capsys):
    # GIVEN a fresh container whose environment names a namespace
    built: list[dict[str, str]] = []

    def counting_factory(environ):
        built.append(dict(environ))
        return create_handler(environ)

    monkeypatch.setattr(entry, "_handler", None)
    monkeypatch.setattr(entry, "create_handler", counting_factory)
    monkeypatch.setenv("METRICS_NAMESPACE", "Test/Entry")
    # WHEN it is invoked twice
    entry.handler({"Records": [malformed("1")]}, None)
    entry.handler({"Records": [malformed("2")]}, None)
    # THEN the handler was built once, from the environment, and wrote to standard output
    assert len(built) == 1 and built[0]["METRICS_NAMESPACE"] == "Test/Entry"
    assert capsys.readouterr().out.count('"Namespace": "Test/Entry"') >= 2


def test_a_bad_environment_fails_naming_the_variable():
    with pytest.raises(ValueError, match="METRICS_NAMESPACE"):
        create_handler({"METRICS_NAMESPACE": "AWS/Mine"})
