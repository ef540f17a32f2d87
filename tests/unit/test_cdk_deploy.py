"""``make deploy`` runs bootstrap for both environments, then the replica stack, then the source."""

from __future__ import annotations

import pytest

from cdk.deploy import Options, main, plan
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


def test_dry_run_prints_the_commands_and_runs_nothing(capsys):
    assert main(["--dry-run", "-c", "account=123456789012", "-c", "replicaRegion=eu-central-1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1] == "+ npx cdk bootstrap aws://123456789012/eu-central-1"
    assert printed[2].startswith("+ npx cdk deploy Users-replication-replica --exclusively")


def test_a_malformed_context_pair_is_refused():
    with pytest.raises(SystemExit, match="key=value"):
        main(["--dry-run", "-c", "account"])
