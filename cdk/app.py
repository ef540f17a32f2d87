"""The CDK app: both stacks from one configuration, checked by cdk-nag on every synth.

    npx cdk synth --all                      # offline, no credentials
    npx cdk synth --all -c replicaRegion=eu-central-1 -c alarmEmail=ops@example.com

The replica stack is deployed before the source stack (a dependency, not a reference): the
replicator starts writing as soon as its event source mapping exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from cdk.stacks.replica import ReplicaStack
from cdk.stacks.source import SourceStack
from deployconfig.config import DeploymentConfig, from_context


@dataclass(frozen=True, slots=True)
class Deployment:
    config: DeploymentConfig
    source: SourceStack
    replica: ReplicaStack


def build(app: App) -> Deployment:
    """Create both stacks in ``app`` from its context, and attach the cdk-nag rule packs."""
    config = from_context(app.node.try_get_context)
    # Construct ids are the stack names, so `npx cdk deploy Users-replication-replica` selects one.
    replica = ReplicaStack(app, config.replica_stack_name, config=config)
    source = SourceStack(app, config.source_stack_name, config=config)
    source.add_stack_dependency(replica, "the replicator writes into the replica region's tables")
    # cdk-nag 3 runs as a policy-validation plugin; findings that are not acknowledged (with a
    # written reason, where the construct is defined) fail the synth.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return Deployment(config, source, replica)


def main() -> None:
    app = App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
