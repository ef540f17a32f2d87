"""Unexpected errors: one line and a --debug hint, never a traceback unless asked, never a hang."""

from __future__ import annotations

import pytest

from replicator.cli import check as check_module
from tests.support.aws import put_items
from tests.support.cli import FAST, run_cli


@pytest.fixture
def broken_comparison(monkeypatch):
    """A defect inside the scan workers: every item's summary raises an unexpected error."""

    def broken(*args, **kwargs):
        raise RuntimeError("SENTINEL-item-value")  # a defect's text may quote data: never shown

    monkeypatch.setattr(check_module, "summarise", broken)


def test_an_error_in_a_worker_thread_stops_the_command_with_one_line(regions, broken_comparison):
    # GIVEN items to scan, and a defect in the threads that scan them
    put_items(regions, 20)
    # WHEN the check runs
    result = run_cli("check", *FAST, "--segments", "4")
    # THEN it stops (no hang) with exit code 2 and one line naming the error's type and the way on
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        "error: internal error (RuntimeError); run again with --debug to see the traceback, "
        "and please report it"
    ]
    assert "SENTINEL" not in result.output


def test_debug_shows_the_traceback(regions, broken_comparison):
    put_items(regions, 5)
    result = run_cli("check", *FAST, "--debug")
    assert result.code == 2
    assert "Traceback (most recent call last)" in result.stderr and "RuntimeError" in result.stderr
