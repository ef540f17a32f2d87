"""Rules about what runs: the replicator's mapping, its function's environment, the failure queue
and the clock. Pure: views in, findings out."""

from __future__ import annotations

from typing import Any

from replicator.cli.doctor.facts import Expected, Facts
from replicator.cli.doctor.findings import Finding, Unreadable, failed, passed, skipped, warned
from replicator.cli.doctor.views import ClockView, FunctionView, MappingView
from replicator.core.errors import ConfigurationError
from replicator.core.policy import TtlPolicy
from replicator.settings import Settings, from_environ

REPLICATOR_HANDLER = "replicator.handler.handler"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

# AWS refuses requests signed more than 5 minutes away from its clock ("Signature expired"); well
# before that, a clock this far off is drifting. A few seconds are noise: the Date header has
# whole seconds.
CLOCK_WARN_SECONDS = 5.0
CLOCK_FAIL_SECONDS = 60.0


def is_replicator(function: FunctionView) -> bool:
    """The replicator's function: its handler, or the environment only the replicator reads."""
    return function.handler == REPLICATOR_HANDLER or "REPLICA_TABLE_NAME" in function.environment


def _no_function(facts: Facts, expected: Expected, check: str) -> Finding:
    if facts.function_given:
        return failed(
            check,
            f"the function {facts.function_given!r} (--function) does not exist",
            "name the replicator function as `aws lambda list-functions` shows it",
        )
    if expected.local_endpoint:
        return skipped(
            check,
            "no replicator function on this endpoint: the local runtime runs the handler in-process, "
            "with the environment it builds from cdk.json",
        )
    return failed(
        check,
        f"no event source mapping on the stream invokes a function with handler {REPLICATOR_HANDLER} "
        "(or REPLICA_TABLE_NAME in its environment)",
        "deploy the source stack (make deploy), or name the function with --function",
    )


def _function(facts: Facts, expected: Expected, check: str) -> FunctionView | Finding:
    if facts.function is None:
        return _no_function(facts, expected, check)
    if isinstance(facts.function, Unreadable):
        return facts.function.finding(check)
    return facts.function


def replicator_mapping(facts: Facts, expected: Expected) -> Finding:
    """The replicator's own mapping: enabled, partial batch responses on, an on-failure destination."""
    check = "replicator-mapping"
    function = _function(facts, expected, check)
    if isinstance(function, Finding):
        return function
    if not isinstance(facts.mappings, tuple):
        return skipped(check, "the stream's mappings could not be listed (see stream-readers)")
    mine = [m for m in facts.mappings if m.function_name == function.name]
    if not mine:
        return failed(
            check,
            f"no event source mapping on the stream invokes {function.name}: it replicates nothing",
            f"create it as the CDK app does (make deploy), or check --function {function.name}",
        )
    problems = [problem for mapping in mine for problem in _mapping_problems(mapping)]
    if problems:
        return failed(
            check,
            "; ".join(problems),
            "deploy the source stack again (make deploy): it creates the mapping with these settings",
        )
    return passed(
        check,
        f"{function.name}'s mapping is enabled, reports batch item failures and sends what it gives "
        f"up on to {mine[0].destination}",
    )


def _mapping_problems(mapping: MappingView) -> list[str]:
    name = f"mapping {mapping.uuid}"
    problems = []
    if mapping.state != "Enabled":
        problems.append(f"{name} is {mapping.state}: nothing is replicated")
    if REPORT_BATCH_ITEM_FAILURES not in mapping.response_types:
        problems.append(
            f"{name} lacks {REPORT_BATCH_ITEM_FAILURES}: Lambda would ignore the replicator's "
            "batchItemFailures and move past records it could not write"
        )
    if mapping.destination is None:
        problems.append(f"{name} has no on-failure destination: records Lambda gives up on leave no trace")
    return problems


def failure_queue(facts: Facts) -> Finding:
    check = "failure-queue"
    queue = facts.queue
    if queue is None and facts.queue_missing:
        return failed(
            check,
            facts.queue_note,
            "give --failure-queue the replicator's on-failure queue (its URL or name, as "
            "`aws sqs list-queues` shows it)",
        )
    if queue is None:
        return skipped(
            check,
            facts.queue_note
            or "no failure queue known: no replicator mapping names an on-failure destination and "
            "--failure-queue was not given",
        )
    if isinstance(queue, Unreadable):
        return queue.finding(check)
    if queue.depth:
        return failed(
            check,
            f"{queue.name} holds {queue.depth} message(s) ({queue.visible} visible, {queue.in_flight} "
            f"in flight, {queue.delayed} delayed): batches the replicator gave up on",
            f"python -m replicator redrive --queue-url {queue.name} ... (then `check`); see "
            "docs/operations.md",
        )
    return passed(check, f"{queue.name} is empty")


def _shown(value: Any) -> str:
    if isinstance(value, TtlPolicy):
        return value.value
    if isinstance(value, frozenset):
        return ",".join(sorted(value)) or "(none)"
    return str(value)


# The replicator's environment (a fixed contract, ARCHITECTURE.md) against what the doctor was told.
_COMPARED = (
    ("REPLICA_TABLE_NAME", "replica_table", "--replica"),
    ("REPLICA_REGION", "replica_region", "--replica"),
    ("STATE_TABLE_NAME", "state_table", "--state-table"),
    ("TTL_DELETES", "ttl_policy", "--ttl-deletes"),
    ("EXCLUDE_ATTRIBUTES", "exclude_attributes", "--exclude-attribute"),
    ("TOMBSTONE_RETENTION_HOURS", "tombstone_retention_hours", "--tombstone-retention-hours"),
)


def mismatches(found: Settings, wanted: Settings) -> list[str]:
    return [
        f"{variable} is {_shown(getattr(found, name))!r} but {option} says {_shown(getattr(wanted, name))!r}"
        for variable, name, option in _COMPARED
        if getattr(found, name) != getattr(wanted, name)
    ]


def function_environment(facts: Facts, expected: Expected) -> Finding:
    check = "function-environment"
    function = _function(facts, expected, check)
    if isinstance(function, Finding):
        return function
    redeploy = "deploy again with the intended cdk.json context (make deploy), or correct the options"
    try:
        found = from_environ(function.environment)
    except ConfigurationError as exc:
        return failed(check, f"{function.name}: {exc}", redeploy)
    problems = mismatches(found, expected.settings)
    if found.endpoint_url and not expected.local_endpoint:
        problems.append(
            f"REPLICA_ENDPOINT_URL is set ({found.endpoint_url}): a deployed replicator writes to AWS"
        )
    if problems:
        return failed(check, f"{function.name}: " + "; ".join(problems), redeploy)
    names = ", ".join(variable for variable, _, _ in _COMPARED)
    return passed(check, f"{function.name}'s {names} match the tables and options")


def clock_skew(clock: ClockView | None, service: str) -> Finding:
    check = "clock-skew"
    if clock is None:
        return warned(check, f"{service} answered without a Date header: the clock could not be compared", "")
    skew = clock.skew
    direction = "ahead of" if skew >= 0 else "behind"
    reason = f"this machine's clock is {abs(skew):.1f} s {direction} {service}'s (its Date header)"
    fix = (
        "synchronise this machine's clock (NTP: `timedatectl set-ntp true`, chrony): AWS refuses "
        "requests signed more than 5 minutes off, and `check` decides which items have expired by it"
    )
    if abs(skew) > CLOCK_FAIL_SECONDS:
        return failed(check, reason, fix)
    if abs(skew) > CLOCK_WARN_SECONDS:
        return warned(check, reason, fix)
    return passed(check, reason)
