"""Serialise requests to the in-process moto, for tests that write from several threads at once.

moto's in-process DynamoDB is not thread-safe. TransactWriteItems deep-copies every table it
touches and, when a condition fails, puts those copies back: a write to another key of the same
table that landed meanwhile, from another thread, is silently undone (moto 5.2.5,
``dynamodb/models/__init__.py`` ``transact_write_items``). The copy itself fails with "dictionary
changed size during iteration" when another thread writes at that moment. DynamoDB has neither
problem (a transaction touches only its own items), and the replicator writes many keys at once,
so a test against in-process moto would see lost writes that real DynamoDB never loses.

:func:`serialise_every_request` therefore puts all of moto's in-process request handling behind one
lock, for every client of the process; the moto fixtures call it (``tests/support/aws.py``). Fault
hooks on ``before-send.dynamodb`` still run first: botocore calls the most specific handlers first.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.models import botocore_stubber

_LOCK = threading.RLock()


def serialise_every_request() -> None:
    """Every in-process moto request, from any client and thread, one at a time (idempotent)."""
    stubber = type(botocore_stubber)
    if getattr(stubber, "_serialised_by_tests", False):
        return
    original = stubber.__call__

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(self, event_name, request, **kwargs)

    stubber.__call__ = call  # type: ignore[method-assign]
    stubber._serialised_by_tests = True  # type: ignore[attr-defined]
