"""The fault injector moved to :mod:`faultlab.faults` (``make soak`` needs it outside the tests)."""

from __future__ import annotations

from faultlab.faults import FaultInjector, SimulatedCrash
from faultlab.wire import error_response, operation_of

__all__ = ["FaultInjector", "SimulatedCrash", "error_response", "operation_of"]
