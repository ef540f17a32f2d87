"""Fixtures of the fault-injection tier: a fault rig per test (helpers live in tests/support/rig.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from faultlab.rig import FaultRig, RigSettings
from tests.support.aws import aws, config, regions  # noqa: F401 (fixtures)
from tests.support.rig import RigFactory


@pytest.fixture(autouse=True)
def _environment() -> Iterator[None]:
    """The handlers read credentials from the environment; tests must not leak settings."""
    with mock.patch.dict(os.environ):
        yield


@pytest.fixture
def make_rig() -> Iterator[RigFactory]:
    """``make_rig(RigSettings(...), annotate=...)``: a started rig, stopped after the test."""
    rigs: list[FaultRig] = []

    def build(settings: RigSettings | None = None, **kwargs: Any) -> FaultRig:
        rig = FaultRig(settings, **kwargs).__enter__()
        rigs.append(rig)
        return rig

    yield build
    for rig in reversed(rigs):
        rig.__exit__(None, None, None)
