"""``make deploy`` runs bootstrap for both environments, then the replica stack, then the source."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cdk.deploy import Options, main, plan
from cdk.rehearsal import AssemblyError, in_order, read_assembly
from deployconfig.config import load


def test_bootstraps_both_regions_then_deploys_the_replica_first():
    config = load()
    commands = plan(config, "111111111111", Options(context=("alarmEmail=ops@example.com",)))
    verbs = [(command[2], command[3]) for command in commands]
    assert verbs == [
        ("bootstrap", "aws://111111111111/us-east-1"),
        ("bootstrap", "aws://111111111111/eu-west-1"),
        ("deploy", "Users-replication-replica"),
        ("deploy", "Users-replication-source"),
    ]
    for command in commands:
        assert command[:2] == ["npx", "cdk"]  # the pinned CLI from package.json
    for command in commands[2:]:
        assert "--exclusively" in command
        assert command[command.index("-c") + 1] == "alarmEmail=ops@example.com"


def test_a_replica_in_another_account_uses_its_own_profile_and_account():
    config = load({"account": "111111111111", "replicaRoleArn": "arn:aws:iam::222222222222:role/Writer"})
    options = Options(context=(), profile="source", replica_profile="replica", skip_bootstrap=False)
    bootstrap_source, bootstrap_replica, deploy_replica, deploy_source = plan(config, "111111111111", options)
    assert bootstrap_replica[3] == "aws://222222222222/eu-west-1"
    assert bootstrap_replica[-2:] == ["--profile", "replica"]
    assert deploy_replica[-2:] == ["--profile", "replica"]
    assert bootstrap_source[-2:] == deploy_source[-2:] == ["--profile", "source"]


def test_with_the_export_check_its_stack_is_deployed_last_in_the_source_account():
    # GIVEN the optional export-check stack, and a replica in another account
    config = load(
        {
            "account": "111111111111",
            "replicaRoleArn": "arn:aws:iam::222222222222:role/Writer",
            "exportCheck": "true",
        }
    )
    options = Options(context=("exportCheck=true",), profile="source", replica_profile="replica")
    # WHEN the deployment is planned
    commands = plan(config, "111111111111", options)
    # THEN it follows both table stacks, with the source account's profile and the same context
    deploys = [(command[3], command[-1]) for command in commands if command[2] == "deploy"]
    assert deploys == [
        ("Users-replication-replica", "replica"),
        ("Users-replication-source", "source"),
        ("Users-replication-export-check", "source"),
    ]
    assert commands[-1][commands[-1].index("-c") + 1] == "exportCheck=true"


def write_assembly(outdir: Path, stacks: dict[str, tuple[str, dict[str, Any]]]) -> None:
    """A cloud assembly as `cdk synth` writes it: manifest.json plus one template per stack."""
    outdir.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}
    for name, (environment, resources) in stacks.items():
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {"templateFile": f"{name}.template.json"},
        }
        (outdir / f"{name}.template.json").write_text(json.dumps({"Resources": resources}))
    (outdir / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))


TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {"TableName": "Users"},
    "DeletionPolicy": "Retain",
}
FUNCTION = {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "Users-replicator"}}
MAPPING = {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": {"Ref": "Fn"}}}


class FakeCdk:
    """Records the commands a run would start; `synth` writes a small assembly, as the CLI would."""

    def __init__(self, outdir: Path, synth_exit: int = 0) -> None:
        self.outdir = outdir
        self.synth_exit = synth_exit
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> int:
        self.commands.append(list(command))
        if command[2] == "synth" and self.synth_exit == 0:
            write_assembly(
                Path(command[command.index("--output") + 1]),
                {
                    # in the manifest's order, not the deployment's
                    "Users-replication-source": (
                        "aws://123456789012/us-east-1",
                        {"ReplicatorFn": FUNCTION, "ReplicatorMapping": MAPPING},
                    ),
                    "Users-replication-replica": (
                        "aws://123456789012/eu-central-1",
                        {"TablesReplica": TABLE},
                    ),
                },
            )
        return self.synth_exit if command[2] == "synth" else 0


def test_dry_run_prints_the_commands_and_runs_only_the_offline_synthesis(capsys, tmp_path):
    # GIVEN a rehearsal of the deploy
    cdk = FakeCdk(tmp_path / "cdk.out")
    argv = ["--dry-run", "-c", "account=123456789012", "-c", "replicaRegion=eu-central-1"]
    # WHEN it runs
    assert main(argv, run=cdk, outdir=cdk.outdir) == 0
    printed = capsys.readouterr().out.splitlines()
    # THEN it prints the bootstrap and deploy commands first, as a deploy would run them
    assert printed[1] == "+ npx cdk bootstrap aws://123456789012/eu-central-1"
    assert printed[2].startswith("+ npx cdk deploy Users-replication-replica --exclusively")
    assert printed[3].startswith("+ npx cdk deploy Users-replication-source --exclusively")
    # AND runs nothing but the synthesis, offline, with the deploy's context
    assert cdk.commands == [
        [
            *("npx", "cdk", "synth", "--quiet", "--output", str(cdk.outdir)),
            *("-c", "account=123456789012", "-c", "replicaRegion=eu-central-1"),
        ]
    ]
    assert "+ " + " ".join(cdk.commands[0]) in printed
    # AND lists each stack in deployment order, with every resource, its name, and what is kept
    summary = printed[next(i for i, line in enumerate(printed) if line.startswith("stack ")) :]
    assert summary[0] == (
        "stack Users-replication-replica in aws://123456789012/eu-central-1, deployed 1st: 1 resources"
    )
    assert summary[1].split() == [
        "AWS::DynamoDB::Table",
        "Users",
        "TablesReplica",
        "(kept",
        "when",
        "the",
        "stack",
        "is",
        "deleted)",
    ]
    assert summary[2] == (
        "stack Users-replication-source in aws://123456789012/us-east-1, deployed 2nd: 2 resources"
    )
    assert [line.split() for line in summary[3:]] == [
        ["AWS::Lambda::EventSourceMapping", "-", "ReplicatorMapping"],
        ["AWS::Lambda::Function", "Users-replicator", "ReplicatorFn"],
    ]


def test_dry_run_without_an_account_asks_no_aws_service(capsys, monkeypatch, tmp_path):
    # GIVEN no account in the context, and credentials that must not be used
    def no_aws(profile):
        raise AssertionError("a dry run called STS")

    monkeypatch.setattr("cdk.deploy.caller_account", no_aws)
    cdk = FakeCdk(tmp_path / "cdk.out")
    # WHEN the deploy is rehearsed
    assert main(["--dry-run", "-c", "replicaRegion=eu-central-1"], run=cdk, outdir=cdk.outdir) == 0
    # THEN the account stands as ACCOUNT, and the output says why
    out = capsys.readouterr().out
    assert "+ npx cdk bootstrap aws://ACCOUNT/us-east-1" in out
    assert "ACCOUNT is the account of the credentials in use" in out


def test_dry_run_stops_when_the_synthesis_fails(capsys, tmp_path):
    # GIVEN a synthesis that fails (an unacknowledged cdk-nag finding, say)
    cdk = FakeCdk(tmp_path / "cdk.out", synth_exit=1)
    # WHEN the deploy is rehearsed
    code = main(["--dry-run", "-c", "account=123456789012"], run=cdk, outdir=cdk.outdir)
    # THEN it fails with the synthesis' code and lists nothing
    assert code == 1
    captured = capsys.readouterr()
    assert "the synthesis failed (1)" in captured.err
    assert not [line for line in captured.out.splitlines() if line.startswith("stack ")]


def test_a_deploy_stops_at_the_first_failing_command(capsys):
    # GIVEN a run whose second bootstrap fails
    commands: list[list[str]] = []

    def run(command):
        commands.append(list(command))
        return 3 if len(commands) == 2 else 0

    # WHEN the deploy runs
    assert main(["-c", "account=123456789012"], run=run) == 3
    # THEN nothing after it was started
    assert [command[2] for command in commands] == ["bootstrap", "bootstrap"]
    assert "deploy stopped" in capsys.readouterr().err


def test_a_malformed_context_pair_is_refused():
    with pytest.raises(SystemExit, match="key=value"):
        main(["--dry-run", "-c", "account"])


def test_a_missing_assembly_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(AssemblyError, match=r"manifest\.json"):
        read_assembly(tmp_path / "cdk.out")


def test_a_stack_the_synthesis_did_not_write_is_an_error_naming_it(tmp_path):
    write_assembly(tmp_path, {"Users-replication-source": ("aws://unknown-account/us-east-1", {})})
    stacks = read_assembly(tmp_path)
    assert stacks[0].account is None and stacks[0].environment == "aws://unknown-account/us-east-1"
    with pytest.raises(AssemblyError, match="no stack \\['Users-replication-replica'\\]"):
        in_order(stacks, ["Users-replication-replica", "Users-replication-source"])
