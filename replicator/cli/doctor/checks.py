"""Every check, in the order the report lists them: facts and expectations in, findings out. Pure."""

from __future__ import annotations

from replicator.cli.doctor import iam, lineage, readers, runtime, tables
from replicator.cli.doctor.facts import Expected, Facts
from replicator.cli.doctor.findings import Finding
from replicator.cli.doctor.views import TableView


def evaluate(facts: Facts, expected: Expected) -> list[Finding]:
    source = facts.source.table
    global_table = isinstance(source, TableView) and source.global_table
    return [
        tables.stream(facts),
        tables.key_schema(facts),
        tables.replica_table(facts),
        tables.state_table(facts),
        tables.ttl_policy(facts, expected),
        tables.pitr(facts),
        readers.finding(facts.mappings, global_table=global_table, local_endpoint=expected.local_endpoint),
        runtime.replicator_mapping(facts, expected),
        lineage.finding(facts.stream),
        runtime.failure_queue(facts),
        runtime.function_environment(facts, expected),
        runtime.clock_skew(facts.clock, "DynamoDB"),
        iam.finding(facts, deep=expected.deep),
    ]
