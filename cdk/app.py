"""The CDK app: both stacks from one configuration, checked by cdk-nag on every synth.

    npx cdk synth --all                      # offline, no credentials
    npx cdk synth --all -c replicaRegion=eu-central-1 -c alarmEmail=ops@example.com
    npx cdk synth --all -c exportCheck=true  # and the optional export-check stack

The replica stack is deployed before the source stack (a dependency, not a reference): the
replicator starts writing as soon as its event source mapping exists. The export-check stack
depends on neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from cdk.stacks.export_check import ExportCheckStack
from cdk.stacks.replica import ReplicaStack
from cdk.stacks.source import SourceStack
from deployconfig.config import DeploymentConfig, from_context


@dataclass(frozen=True, slots=True)
class Deployment:
    config: DeploymentConfig
    source: SourceStack
    replica: ReplicaStack
    export_check: ExportCheckStack | None
    """With ``exportCheck=true`` only."""


def build(app: App) -> Deployment:
    """Create the stacks in ``app`` from its context, and attach the cdk-nag rule packs."""
    config = from_context(app.node.try_get_context)
    # Construct ids are the stack names, so `npx cdk deploy Users-replication-replica` selects one.
    replica = ReplicaStack(app, config.replica_stack_name, config=config)
    source = SourceStack(app, config.source_stack_name, config=config)
    source.add_stack_dependency(replica, "the replicator writes into the replica region's tables")
    export_check = (
        ExportCheckStack(app, config.export_check_stack_name, config=config) if config.export_check else None
    )
    # cdk-nag 3 runs as a policy-validation plugin; findings that are not acknowledged (with a
    # written reason, where the construct is defined) fail the synth.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return Deployment(config, source, replica, export_check)


def main() -> None:
    app = App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
