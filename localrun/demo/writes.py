"""What every workload generator shares: the key schema it writes, how one write is sent, and the pace.

The demo's :mod:`~localrun.demo.workload` (realistic traffic for the dashboards) and the fault lab's
sequenced workload (writes numbered per key, with the final state they must leave) decide
different writes; they send them to the source table by these same rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from deployconfig.config import DeploymentConfig

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def require_generated_keys(cfg: DeploymentConfig, workload: str) -> None:
    """The workloads make string partition keys and numeric sort keys, as the Users table has."""
    if cfg.partition_key.type != "S" or (cfg.sort_key is not None and cfg.sort_key.type != "N"):
        raise ValueError(
            f"the {workload} writes a string partition key and a numeric sort key (user_id, timestamp)"
        )


class TableWrite(Protocol):
    """One write to the source table, in boto3 client form."""

    @property
    def key(self) -> Mapping[str, Any]: ...
    @property
    def item(self) -> Mapping[str, Any] | None: ...
    @property
    def update(self) -> Mapping[str, Any] | None:
        """UpdateExpression plus its names and values."""


def send(client: DynamoDBClient, table: str, write: TableWrite) -> None:
    """An update when the write has an expression, else a put of its item, else a delete of its key."""
    if write.update is not None:
        client.update_item(TableName=table, Key=write.key, **write.update)
    elif write.item is not None:
        client.put_item(TableName=table, Item=write.item)
    else:
        client.delete_item(TableName=table, Key=write.key)


class Pacer:
    """Spaces writes ``1 / rate`` seconds apart (no pause without a rate). After a stall it catches
    up with at most a second's worth of writes at once, never a burst of everything missed."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._next_at = clock()

    def due_in(self) -> float:
        """Seconds until the next write is due; zero or less: now."""
        return self._next_at - self._clock()

    def sent(self) -> None:
        self._next_at = max(self._next_at + self._interval, self._clock() - 1.0)
