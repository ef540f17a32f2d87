"""The fault injector moved to :mod:`localrun.faults` (``make soak`` needs it outside the tests)."""

from __future__ import annotations

from localrun.faults import FaultInjector, SimulatedCrash
from localrun.faultwire import error_response, operation_of

__all__ = ["FaultInjector", "SimulatedCrash", "error_response", "operation_of"]
