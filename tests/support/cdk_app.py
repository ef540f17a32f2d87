"""Synthesize the CDK app once per test session (a synth costs ~6-12 s and ~500 MB).

The CDK tests carry ``@pytest.mark.xdist_group("cdk")`` so that under
``pytest -n 2 --dist loadgroup`` they share one worker and one synthesis.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from cdk.app import Deployment, build
from cdk.rehearsal import AssemblyStack, read_assembly
from deployconfig.config import CDK_JSON, DeploymentConfig

# Every optional feature at once: customer-managed keys, an alarm e-mail, a replica in another
# account reached through a role, the export-check stack (with its limits away from their
# defaults). Bundling is skipped for it (the default synth proves bundling).
ALL_OPTIONS: dict[str, Any] = {
    "account": "111111111111",
    "customerManagedKey": True,
    "alarmEmail": "ops@example.com",
    "replicaRoleArn": "arn:aws:iam::222222222222:role/replication/UsersReplicaWriter",
    "parallelizationFactor": 4,
    "batchSize": 250,
    "batchingWindowSeconds": 2,
    "exportCheck": True,
    "exportRetentionDays": 3,
    "exportMaxVcpu": 64,
    "aws:cdk:bundling-stacks": [],
}
IMPORTED_TABLE: dict[str, Any] = {
    "existingTableName": "Users",
    "existingStreamArn": "arn:aws:dynamodb:us-east-1:111111111111:table/Users/stream/2026-01-01T00:00:00.000",
    "existingTableKeyArn": "arn:aws:kms:us-east-1:111111111111:key/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab",
    "aws:cdk:bundling-stacks": [],
}

# A redeploy after `make destroy`: the three retained tables are attached, not created. The
# account is named so that the table ARNs in the policies are concrete.
REDEPLOY_AFTER_DESTROY: dict[str, Any] = {
    "account": "111111111111",
    "existingTableName": "Users",
    "existingStreamArn": IMPORTED_TABLE["existingStreamArn"],
    "existingReplicaTableName": "Users",
    "existingStateTableName": "Users-replication-state",
    "aws:cdk:bundling-stacks": [],
}

# A replica far away (us-east-1 -> ap-southeast-2, about 200 ms) whose own TTL deletes expired
# items; no parallelizationFactor, so the mapping's factor comes from the region pair.
FAR_REPLICA_EXPIRE: dict[str, Any] = {
    "replicaRegion": "ap-southeast-2",
    "ttlDeletes": "expire",
    "aws:cdk:bundling-stacks": [],
}


@dataclass
class Synthesized:
    """One synthesized app: its configuration, its templates and the cloud assembly directory."""

    config: DeploymentConfig
    deployment: Deployment
    source: Template
    replica: Template
    outdir: Path
    export_check: Template | None = None
    """The optional export-check stack's template (``exportCheck=true``)."""

    def stacks(self) -> dict[str, AssemblyStack]:
        """Every stack in the assembly (read as the deploy rehearsal reads it): file name -> stack."""
        return {stack.template_file: stack for stack in read_assembly(self.outdir)}

    def templates(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every template in the assembly: file name -> (region, template JSON)."""
        return {name: (stack.region, dict(stack.template)) for name, stack in self.stacks().items()}

    def asset_dir(self, function_name: str) -> Path:
        """The bundled code directory of the Lambda function with this physical name."""
        for _, template in self.templates().values():
            for resource in template["Resources"].values():
                props = resource.get("Properties", {})
                if resource["Type"] == "AWS::Lambda::Function" and props.get("FunctionName") == function_name:
                    # The S3 key of a directory asset is "<asset hash>.zip"; staged as asset.<hash>.
                    asset_hash = props["Code"]["S3Key"].removesuffix(".zip")
                    return self.outdir / f"asset.{asset_hash}"
        raise LookupError(f"no function named {function_name} in the assembly")


def synthesize(outdir: Path, overrides: dict[str, Any] | None = None) -> Synthesized:
    context = dict(json.loads(CDK_JSON.read_text())["context"])
    context.update(overrides or {})
    app = App(outdir=str(outdir), context=context)
    deployment = build(app)
    app.synth()  # runs the cdk-nag packs: an unacknowledged finding raises here
    return Synthesized(
        config=deployment.config,
        deployment=deployment,
        source=Template.from_stack(deployment.source),
        replica=Template.from_stack(deployment.replica),
        outdir=outdir,
        export_check=Template.from_stack(deployment.export_check) if deployment.export_check else None,
    )


@pytest.fixture(scope="session")
def cdk_default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The app as ``make synth`` builds it from cdk.json, Lambda assets bundled."""
    yield synthesize(tmp_path_factory.mktemp("cdk-default"))


@pytest.fixture(scope="session")
def cdk_all_options(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The app with every optional feature switched on (see ALL_OPTIONS)."""
    yield synthesize(tmp_path_factory.mktemp("cdk-all-options"), ALL_OPTIONS)


@pytest.fixture(scope="session")
def cdk_imported_table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The app attached to an existing, KMS-encrypted source table."""
    yield synthesize(tmp_path_factory.mktemp("cdk-imported"), IMPORTED_TABLE)


@pytest.fixture(scope="session")
def cdk_far_replica_expire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The app with a far replica region and ``ttlDeletes=expire`` (see FAR_REPLICA_EXPIRE)."""
    yield synthesize(tmp_path_factory.mktemp("cdk-far-expire"), FAR_REPLICA_EXPIRE)


@pytest.fixture(scope="session")
def cdk_redeploy_after_destroy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The app attached to the tables a `make destroy` kept (see REDEPLOY_AFTER_DESTROY)."""
    yield synthesize(tmp_path_factory.mktemp("cdk-redeploy"), REDEPLOY_AFTER_DESTROY)
