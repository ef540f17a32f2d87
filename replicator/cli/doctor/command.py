"""``python -m replicator doctor``: gather the facts, run every check, print, exit 0/1/2."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from replicator.cli.commands import Runtime, deliver_report
from replicator.cli.doctor import attempt, gather, iam, report
from replicator.cli.doctor.checks import evaluate
from replicator.cli.doctor.facts import Expected, Facts
from replicator.cli.doctor.findings import exit_code
from replicator.cli.doctor.views import FunctionView, TableView
from replicator.cli.options import Options
from replicator.cli.sides import Side
from replicator.core.schema import default_state_table
from replicator.settings import Settings


def expected(opts: Options) -> Expected:
    replica = opts.replica.ref
    return Expected(
        settings=Settings(
            replica_table=replica.table,
            replica_region=replica.region,
            state_table=opts.state_table or default_state_table(replica.table),
            ttl_policy=opts.ttl_deletes,
            exclude_attributes=opts.exclude_attributes,
            tombstone_retention_hours=opts.tombstone_retention_hours,
        ),
        ttl_attribute=opts.ttl_attribute,
        local_endpoint=opts.source.endpoint_url is not None,
        deep=opts.deep,
    )


@dataclasses.dataclass
class _Clients:
    """One client per (side, service, region), each shown to the runtime's ``instrument`` hook; one
    session per side (with ``--*-role-arn``, one assumed role, not one per client)."""

    instrument: Callable[[Any], None]
    _sessions: dict[str, Any] = dataclasses.field(default_factory=dict)
    _made: dict[tuple[str, str, str], Any] = dataclasses.field(default_factory=dict)

    def __call__(self, side: Side, service: str, region: str | None = None) -> Any:
        key = (side.where, service, region or side.region)
        if key not in self._made:
            if side.where not in self._sessions:
                self._sessions[side.where] = side.session()
            self._made[key] = side.client(service, region, session=self._sessions[side.where])
            self.instrument(self._made[key])
        return self._made[key]


def collect(opts: Options, rt: Runtime) -> Facts:
    """Every fact the checks read; the only place the doctor talks to AWS (through :mod:`.gather`)."""
    source, replica = Side(opts.source, "source"), Side(opts.replica, "replica")
    clients = _Clients(rt.instrument)
    probe = attempt.ClockProbe(rt.clock)
    source_db = clients(source, "dynamodb")
    probe.attach(source_db)
    at_source, at_replica = attempt.Attempt(source, probe), attempt.Attempt(replica, probe)
    replica_db = clients(replica, "dynamodb")
    wanted = expected(opts).settings
    facts = Facts(
        source=gather.read_table(at_source, source_db, "source", source.table),
        replica=gather.read_table(at_replica, replica_db, "replica", replica.table),
        state=gather.read_table(at_replica, replica_db, "state", wanted.state_table),
        function_given=opts.function,
    )
    table = facts.source.table
    arn = table.stream_arn if isinstance(table, TableView) else None
    if arn:
        mappings = gather.read_mappings(at_source, clients(source, "lambda"), arn)
        facts = dataclasses.replace(
            facts,
            stream=gather.read_stream(at_source, clients(source, "dynamodbstreams"), arn),
            mappings=mappings,
        )
    function = gather.read_function(
        at_source, clients(source, "lambda"), facts.mappings, opts.function, replica.table
    )
    facts = dataclasses.replace(facts, function=function)
    queue, note, missing = gather.read_queue(
        at_source, lambda region: clients(source, "sqs", region), opts.failure_queue, facts
    )
    facts = dataclasses.replace(facts, queue=queue, queue_note=note, queue_missing=missing)
    if opts.deep and isinstance(function, FunctionView):
        roles = {"function": function.role, "replica": function.environment.get("REPLICA_ROLE_ARN", "")}
        iam_clients = {"function": clients(source, "iam"), "replica": clients(replica, "iam")}
        simulation = gather.simulate(at_source, iam_clients, roles, iam.needs(facts))
        facts = dataclasses.replace(facts, simulation=simulation)
    return dataclasses.replace(facts, clock=probe.view)


def run(opts: Options, rt: Runtime) -> int:
    facts = collect(opts, rt)
    findings = evaluate(facts, expected(opts))
    code = exit_code(findings, strict=opts.strict)
    where = f" ({opts.source.endpoint_url})" if opts.source.endpoint_url else ""
    title = f"Doctor: {opts.source.ref} -> {opts.replica.ref}{where}"
    rt.say(report.lines(title, findings, code, strict=opts.strict))
    deliver_report(
        rt, opts.json_path, report.document(str(opts.source.ref), str(opts.replica.ref), findings, code)
    )
    return code
