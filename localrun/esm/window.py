"""Tumbling windows: the window of a batch, the fields of its invocation, and the state's size limit."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

MAX_STATE_BYTES = 1024 * 1024
"""Lambda keeps at most 1 MB of state per shard; above it the window is terminated early."""


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_size(state: Any) -> int:
    return len(json.dumps(state, separators=(",", ":")).encode("utf-8"))


@dataclass(slots=True)
class OpenWindow:
    """The window a shard is aggregating, and the state the function returned last."""

    start: int
    end: int
    state: Any = field(default_factory=dict)
    terminated_early: bool = False
    """Set when the state grew past 1 MB, or the shard ended before the window did: the next invoke
    is this window's final one."""

    def event_fields(self, *, shard_id: str, stream_arn: str, final: bool) -> dict[str, Any]:
        """What Lambda adds to a tumbling-window invocation next to ``Records``."""
        return {
            "window": {"start": _iso(self.start), "end": _iso(self.end)},
            "state": self.state,
            "shardId": shard_id,
            "eventSourceARN": stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": final and self.terminated_early,
        }

    def update(self, state: Any) -> None:
        """Keep the state the function returned; past 1 MB the window must end early."""
        self.state = state if state is not None else {}
        if state_size(self.state) > MAX_STATE_BYTES:
            self.terminated_early = True

    def restart(self) -> None:
        """After an early termination the same window continues with a fresh state."""
        self.state = {}
        self.terminated_early = False
