"""The rules every workload generator shares (``localrun.demo.writes``): key schema and pace."""

from __future__ import annotations

import dataclasses

import pytest

from deployconfig.config import KeyAttribute, load
from localrun.demo.writes import Pacer, require_generated_keys


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_writes_are_spaced_one_interval_apart():
    # GIVEN a pace of 4 writes per second on a clock that only moves when told
    clock = Clock()
    pacer = Pacer(4.0, clock)
    # THEN the first write is due at once, the next a quarter second later
    assert pacer.due_in() == 0
    pacer.sent()
    assert pacer.due_in() == pytest.approx(0.25)
    clock.now += 0.25
    assert pacer.due_in() == pytest.approx(0)


def test_after_a_stall_the_pace_catches_up_with_at_most_a_second_of_writes():
    # GIVEN 10 writes per second and a 5-second stall after the first write
    clock = Clock()
    pacer = Pacer(10.0, clock)
    pacer.sent()
    clock.now += 5.0
    # WHEN writes are sent as soon as they are due
    burst = 0
    while pacer.due_in() <= 0:
        pacer.sent()
        burst += 1
    # THEN the overdue write and a second's worth (both ends counted) went at once, not the 50 missed
    assert burst == 1 + 11


def test_without_a_rate_every_write_is_due_at_once():
    clock = Clock()
    pacer = Pacer(None, clock)
    for _ in range(3):
        pacer.sent()
        assert pacer.due_in() <= 0


def test_the_workloads_refuse_a_key_schema_they_cannot_generate():
    cfg = dataclasses.replace(load(), partition_key=KeyAttribute("id", "N"))
    with pytest.raises(ValueError, match="the demo workload writes a string partition key"):
        require_generated_keys(cfg, "demo workload")
    require_generated_keys(load(), "demo workload")  # the deployment's own schema is fine
