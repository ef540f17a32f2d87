"""The deploy rehearsal (`make deploy ARGS=--dry-run`) read against really synthesized apps."""

from __future__ import annotations

import pytest

from cdk.deploy import stack_order
from cdk.rehearsal import describe, in_order, read_assembly
from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def _rehearsal(synthesized: Synthesized) -> dict[str, list[list[str]]]:
    """Stack header -> its resource lines, split into words."""
    stacks = in_order(read_assembly(synthesized.outdir), stack_order(synthesized.config))
    found: dict[str, list[list[str]]] = {}
    for line in describe(stacks):
        if line.startswith("stack "):
            header = line
            found[header] = []
        else:
            found[header].append(line.split())
    return found


def test_the_rehearsal_lists_every_resource_of_both_stacks_in_deployment_order(cdk_default: Synthesized):
    # GIVEN the app as `make synth` builds it
    replica = cdk_default.replica.to_json()["Resources"]
    source = cdk_default.source.to_json()["Resources"]
    # WHEN the rehearsal reads its assembly
    rehearsal = _rehearsal(cdk_default)
    # THEN the replica stack comes first, then the source stack, each with all its resources
    assert list(rehearsal) == [
        f"stack Users-replication-replica in aws://unknown-account/eu-west-1, deployed 1st: "
        f"{len(replica)} resources",
        f"stack Users-replication-source in aws://unknown-account/us-east-1, deployed 2nd: "
        f"{len(source)} resources",
    ]
    replica_lines, source_lines = rehearsal.values()
    assert sorted(words[2] for words in replica_lines) == sorted(replica)
    assert sorted(words[2] for words in source_lines) == sorted(source)
    # AND names what an operator looks for, saying which tables outlive the stack
    tables = [
        (words[1], " ".join(words[3:])) for words in replica_lines if words[0] == "AWS::DynamoDB::Table"
    ]
    assert sorted(tables) == [
        ("Users", "(kept when the stack is deleted)"),
        ("Users-replication-state", "(kept when the stack is deleted)"),
    ]
    source_tables = [
        (words[1], " ".join(words[3:])) for words in source_lines if words[0] == "AWS::DynamoDB::Table"
    ]
    assert sorted(source_tables) == [
        ("Users", "(kept when the stack is deleted)"),
        ("Users-usage", ""),  # derived metrics: deleted with the stack (docs/metrics.md)
    ]
    functions = {words[1] for words in source_lines if words[0] == "AWS::Lambda::Function"}
    assert functions == {"Users-replicator", "Users-usage-metrics", "Users-usage-merge"}
    dashboards = {words[1] for words in source_lines if words[0] == "AWS::CloudWatch::Dashboard"}
    assert dashboards == {"Users-replication", "Users-usage"}


def test_the_rehearsal_of_a_redeploy_after_destroy_creates_no_kept_table(
    cdk_redeploy_after_destroy: Synthesized,
):
    # GIVEN the three tables `make destroy` kept, attached by name
    rehearsal = _rehearsal(cdk_redeploy_after_destroy)
    # THEN the rehearsal shows none of them to create, in either stack, both in the named account:
    # the one table it creates is the usage table, which `make destroy` deleted
    assert [header.split()[3].rstrip(",") for header in rehearsal] == [
        "aws://111111111111/eu-west-1",
        "aws://111111111111/us-east-1",
    ]
    tables = [
        words[1] for lines in rehearsal.values() for words in lines if words[0] == "AWS::DynamoDB::Table"
    ]
    assert tables == ["Users-usage"]
    types = {words[0] for lines in rehearsal.values() for words in lines}
    assert "AWS::Lambda::EventSourceMapping" in types


def test_the_rehearsal_with_the_export_check_deploys_it_third_and_keeps_its_bucket(
    cdk_all_options: Synthesized,
):
    # GIVEN every option, the export check among them
    rehearsal = _rehearsal(cdk_all_options)
    # THEN its stack comes after both table stacks, in the source account and region
    headers = list(rehearsal)
    assert headers[2].startswith(
        "stack Users-replication-export-check in aws://111111111111/us-east-1, deployed 3rd:"
    )
    # AND the rehearsal says the bucket outlives the stack, and the application and role do not
    lines = rehearsal[headers[2]]
    kept = {words[0]: " ".join(words[3:]) for words in lines}
    assert kept == {
        "AWS::EMRServerless::Application": "",
        "AWS::IAM::Policy": "",
        "AWS::IAM::Role": "",
        "AWS::S3::Bucket": "(kept when the stack is deleted)",
        "AWS::S3::BucketPolicy": "",
    }
