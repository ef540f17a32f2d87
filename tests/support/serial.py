"""Serialise requests to the in-process moto, for tests that write from several threads at once.

moto's in-process DynamoDB is not thread-safe: TransactWriteItems deep-copies the tables to roll
back, and fails with "dictionary changed size during iteration" when another thread writes at the
same moment. DynamoDB has no such limit, so tests that run the CLI's threads alongside a live
replicator route every request through moto under one lock (fault hooks on ``before-send.dynamodb``
still run first: botocore calls the most specific handlers first). A
:class:`~faultlab.faults.FaultInjector` on a serialised client is given ``forward_to=send_serialised``.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.models import botocore_stubber

_LOCK = threading.RLock()


def send_serialised(**kwargs: Any) -> Any:
    """moto's in-process request handler, one request at a time."""
    with _LOCK:
        return botocore_stubber(**kwargs)


def serialise(client: Any) -> Any:
    # botocore calls every before-send handler (the first response wins), so moto's own handler is
    # replaced on this client, not merely preceded: otherwise each request would run twice.
    client.meta.events.unregister("before-send", botocore_stubber)
    client.meta.events.unregister("before-send", send_serialised)  # serialising twice is harmless
    client.meta.events.register("before-send", send_serialised)
    return client
