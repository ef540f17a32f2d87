"""One planned write, for tests of what the protocol and the writer do with it."""

from __future__ import annotations

from ddbstream import parse_event
from replicator.core.plan import Write, plan_batch
from replicator.core.policy import Policy
from tests.support.events import key, record


def one_write(event_name: str, seq: int = 20) -> Write:
    """The plan's write for a single ``event_name`` record of user "ann" at sequence ``seq``."""
    event = {"Records": [record(seq, event_name, keys=key("ann"), attributes={"v": {"S": "1"}})]}
    (planned,) = plan_batch(parse_event(event), Policy()).writes
    return planned
