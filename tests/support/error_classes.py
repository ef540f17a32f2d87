"""Make the replicator fail a record with every error class it can report."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from faultlab.faults import FaultInjector
from tests.support.events import key
from tests.support.replication import BASE_ENV, Harness

# Retryable classes are retried until the invocation's time is up, then reported: the deadline
# reserve (1 s) plus a second of retrying. Classes that are not retried in process (AccessDenied,
# ReplicaMissing) and the poison classes fail at once, so they get the normal time: a short
# deadline could pass, on a loaded machine, before their first attempt (then DeadlineExceeded).
SHORT = 2.0
AT_ONCE = frozenset(
    {"AccessDenied", "ReplicaMissing", "ItemTooLarge", "KeySchemaMismatch", "ReplicaRejected"}
)


def _fault(status: int, code: str, message: str = "injected") -> Callable[[FaultInjector], Any]:
    return lambda injector: injector.fail_always(status, code, message)


INJECTED: dict[str, Callable[[FaultInjector], Any]] = {
    "Throttled": _fault(400, "ProvisionedThroughputExceededException"),
    "ReplicaUnavailable": _fault(500, "InternalServerError"),
    "WriteConflict": _fault(400, "TransactionConflictException"),
    "AccessDenied": _fault(400, "AccessDeniedException"),
    "ReplicaMissing": _fault(400, "ResourceNotFoundException"),
    "ItemTooLarge": _fault(400, "ValidationException", "Item size has exceeded the maximum allowed size"),
    "KeySchemaMismatch": _fault(400, "ValidationException", "Type mismatch for key user_id expected: S"),
    "ReplicaRejected": _fault(400, "ValidationException", "Invalid attribute value"),
    "InternalError": lambda injector: injector.raise_always(RuntimeError("a defect")),
}


def produce_every_error_class(regions: Any, env: dict[str, str] | None = None) -> tuple[list[str], set[str]]:
    """Deliver records that fail with each error class; returns (output lines, classes reported)."""
    env = dict(env or BASE_ENV)
    lines: list[str] = []
    classes: set[str] = set()

    def deliver(harness: Harness, event: dict[str, Any], timeout: float = 60.0) -> None:
        harness.deliver(event, timeout=timeout)
        lines.extend(harness.log_lines())
        classes.update(harness.metric_classes())

    regions.source.put_item(TableName="Users", Item={**key("x"), "n": {"N": "1"}})
    event = regions.tap.read_event()
    for name, injected in INJECTED.items():
        harness = Harness(regions, env=env, fast_retries=True)
        injected(FaultInjector(harness.replicator.writer.client))
        deliver(harness, copy.deepcopy(event), 60.0 if name in AT_ONCE else SHORT)
    deliver(Harness(regions, env=env), copy.deepcopy(event), timeout=0.5)  # DeadlineExceeded
    poison = copy.deepcopy(event)
    poison["Records"][0]["dynamodb"]["NewImage"]["repl:version"] = {"S": "x"}
    deliver(Harness(regions, env=env), poison)  # MetadataCollision
    malformed = copy.deepcopy(event)
    malformed["Records"][0]["eventName"] = "UPSERT"
    deliver(Harness(regions, env=env), malformed)  # MalformedInput
    deliver(Harness(regions, env={**env, "EXCLUDE_ATTRIBUTES": "user_id"}), copy.deepcopy(event))
    return lines, classes
