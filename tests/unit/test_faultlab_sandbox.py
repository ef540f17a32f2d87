"""The fault lab's pure parts: fault rates, and the sandbox's delivery faults around a handler."""

from __future__ import annotations

from typing import Any

import pytest

from faultlab.faults import FaultRates, SimulatedCrash
from faultlab.sandbox import FaultySandbox, SandboxFault, SandboxRates
from tests.support.events import event_of, record


def test_rates_are_validated():
    with pytest.raises(ValueError, match="add up to at most 1"):
        FaultRates(throttle=0.6, server_error=0.6)
    with pytest.raises(ValueError, match="add up to at most 1"):
        SandboxRates(crash=-0.1)


class Context:
    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id


def batch(*sequences: int) -> dict[str, Any]:
    return event_of(record(s) for s in sequences)


def delivered(handler_calls: list[dict[str, Any]]) -> list[list[str]]:
    return [[r["dynamodb"]["SequenceNumber"] for r in event["Records"]] for event in handler_calls]


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        pytest.param(
            SandboxRates(duplicate=1.0), [["1", "2"], ["1", "2"], ["3", "4"], ["3", "4"]], id="duplicate"
        ),
        pytest.param(
            SandboxRates(newer_first=1.0), [["2"], ["1", "2"], ["4"], ["3", "4"]], id="newer-half-first"
        ),
        pytest.param(SandboxRates(replay=1.0), [["1", "2"], ["1", "2"], ["3", "4"]], id="old-batch-replayed"),
    ],
)
def test_the_sandbox_delivers_duplicates_and_out_of_order_batches_before_the_real_one(rates, expected):
    calls: list[dict[str, Any]] = []

    def handler(event, ctx):
        calls.append(event)
        return {"ok": 1}

    sandbox = FaultySandbox(handler, None, rates, seed=1)
    assert sandbox(batch(1, 2), Context("a")) == {"ok": 1}
    assert sandbox(batch(3, 4), Context("b")) == {"ok": 1}
    assert delivered(calls) == expected
    assert [d.sequences for d in sandbox.deliveries] == [("1", "2"), ("3", "4")]
    assert sum(d.extra_records for d in sandbox.deliveries) == sum(map(len, expected)) - 4


def test_a_crash_without_requests_to_stop_at_comes_after_the_handler_wrote_its_output():
    calls: list[dict[str, Any]] = []
    sandbox = FaultySandbox(lambda event, ctx: calls.append(event), None, SandboxRates(crash=1.0))
    with pytest.raises(SimulatedCrash, match="crash after the handler returned"):
        sandbox(batch(1), Context("a"))
    assert len(calls) == 1 and sandbox.counts == {SandboxFault.CRASH: 1}


def test_a_timeout_hangs_past_the_function_timeout_after_the_handler_is_done():
    waits: list[float] = []
    sandbox = FaultySandbox(
        lambda event, ctx: {"late": True},
        None,
        SandboxRates(timeout=1.0),
        timeout_seconds=2.0,
        sleep=waits.append,
    )
    assert sandbox(batch(1), Context("a")) == {"late": True}
    assert waits == [2.5] and sandbox.counts == {SandboxFault.TIMEOUT: 1}
