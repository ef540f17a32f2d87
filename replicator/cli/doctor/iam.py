"""``--deep``: which actions the replicator's role must be allowed on which resources, and the
verdict of IAM's policy simulator on them. Pure; the lists are the ones the CDK app grants
(:mod:`replicator.permissions`)."""

from __future__ import annotations

from dataclasses import dataclass

from replicator import permissions
from replicator.cli.doctor.facts import Facts
from replicator.cli.doctor.findings import Finding, Unreadable, failed, passed, skipped
from replicator.cli.doctor.views import FunctionView, SimulationView, TableView

SHOWN = 6


@dataclass(frozen=True, slots=True)
class Need:
    """Actions a role must be allowed on one resource."""

    role: str
    """``function`` (the replicator's execution role) or ``replica`` (REPLICA_ROLE_ARN's role)."""
    actions: tuple[str, ...]
    resource: str


def needs(facts: Facts) -> list[Need]:
    """What to simulate, from what the doctor found (resources it could not find are left out)."""
    if not isinstance(facts.function, FunctionView):
        return []
    found: list[Need] = []
    source = facts.source.table
    if isinstance(source, TableView) and source.stream_arn:
        found.append(Need("function", permissions.STREAM_READ_ACTIONS, source.stream_arn))
    found.append(Need("function", permissions.STREAM_LIST_ACTIONS, "*"))
    replica_role = facts.function.environment.get("REPLICA_ROLE_ARN", "").strip()
    writer = "function"
    if replica_role:
        found.append(Need("function", permissions.ASSUME_REPLICA_ROLE_ACTIONS, replica_role))
        writer = "replica"
    for side, actions in (
        (facts.replica.table, permissions.REPLICA_TABLE_ACTIONS),
        (facts.state.table, permissions.STATE_TABLE_ACTIONS),
    ):
        if isinstance(side, TableView) and side.arn:
            found.append(Need(writer, actions, side.arn))
    if isinstance(facts.mappings, tuple):
        for mapping in facts.mappings:
            if mapping.function_name == facts.function.name and (mapping.destination or "").startswith(
                "arn:aws:sqs:"
            ):
                found.append(Need("function", permissions.FAILURE_QUEUE_ACTIONS, mapping.destination or ""))
    return found


def finding(facts: Facts, *, deep: bool) -> Finding:
    check = "iam"
    if not deep:
        return skipped(check, "not simulated: run with --deep to simulate the replicator role's permissions")
    simulation = facts.simulation
    if simulation is None:
        return skipped(check, "no replicator function found, so no role to simulate (see above)")
    if isinstance(simulation, Unreadable):
        return simulation.finding(check)
    return verdict(simulation)


def verdict(simulation: SimulationView) -> Finding:
    """The simulator's decisions: a failure naming each denied action and resource."""
    denied = [d for d in simulation.decisions if not d.allowed]
    if denied:
        more = f"; and {len(denied) - SHOWN} more" if len(denied) > SHOWN else ""
        return failed(
            "iam",
            "denied: "
            + "; ".join(f"{d.action} on {d.resource} ({d.decision})" for d in denied[:SHOWN])
            + more,
            "grant them as the CDK app does (cdk/constructs: the replicator's role and, for another "
            "account, the replica stack's writer role), then run the doctor with --deep again",
        )
    return passed(
        "iam",
        f"the policy simulator allows all {len(simulation.decisions)} action(s) the replicator needs "
        f"({', '.join(simulation.roles)})",
    )
