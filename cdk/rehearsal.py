"""What a deployment would create, read from a synthesized cloud assembly (``cdk.out``). Pure.

``make deploy ARGS=--dry-run`` synthesizes the app offline and prints, per stack in deployment
order, its environment and every resource CloudFormation would manage: type, physical name where
the template sets one, logical id, and whether it survives the stack's deletion. Nothing here
calls AWS; the tests read their synthesized assemblies through :func:`read_assembly` too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
UNKNOWN_ACCOUNT = "unknown-account"
"""What the assembly says for a stack whose account is not in the context (environment-agnostic)."""

# Properties that hold a resource's physical name, in the order they are looked for.
_NAME_PROPERTIES = (
    "TableName",
    "FunctionName",
    "QueueName",
    "TopicName",
    "RoleName",
    "DashboardName",
    "AlarmName",
    "LogGroupName",
    "AliasName",
    "PolicyName",
)


class AssemblyError(ValueError):
    """The cloud assembly is missing or not what ``cdk synth`` writes; the message names the file."""


@dataclass(frozen=True, slots=True)
class AssemblyStack:
    """One stack of a cloud assembly: its name, environment and template."""

    name: str
    account: str | None
    """None for an environment-agnostic stack (no account in the context)."""
    region: str
    template_file: str
    template: Mapping[str, Any]

    @property
    def environment(self) -> str:
        return f"aws://{self.account or UNKNOWN_ACCOUNT}/{self.region}"


@dataclass(frozen=True, slots=True)
class PlannedResource:
    type: str
    logical_id: str
    physical_name: str | None
    retained: bool


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AssemblyError(f"cannot read {str(path)!r} of the synthesized app: {exc}") from exc


def read_assembly(outdir: Path) -> list[AssemblyStack]:
    """Every stack of the assembly in ``outdir``, in the manifest's order."""
    manifest = _read_json(outdir / "manifest.json")
    stacks = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != STACK_ARTIFACT:
            continue
        account, _, region = artifact["environment"].removeprefix("aws://").partition("/")
        properties = artifact["properties"]
        template_file = properties["templateFile"]
        stacks.append(
            AssemblyStack(
                name=properties.get("stackName", artifact_id),
                account=None if account == UNKNOWN_ACCOUNT else account,
                region=region,
                template_file=template_file,
                template=_read_json(outdir / template_file),
            )
        )
    return stacks


def _physical_name(properties: Mapping[str, Any]) -> str | None:
    for key in _NAME_PROPERTIES:
        value = properties.get(key)
        if isinstance(value, str):
            return value
    return None


def planned_resources(template: Mapping[str, Any]) -> list[PlannedResource]:
    """The template's resources, by type then logical id."""
    resources = [
        PlannedResource(
            type=resource["Type"],
            logical_id=logical_id,
            physical_name=_physical_name(resource.get("Properties", {})),
            retained=resource.get("DeletionPolicy") == "Retain",
        )
        for logical_id, resource in template.get("Resources", {}).items()
    ]
    return sorted(resources, key=lambda r: (r.type, r.logical_id))


def in_order(stacks: Iterable[AssemblyStack], names: Sequence[str]) -> list[AssemblyStack]:
    """``stacks`` in the order of ``names`` (the deployment's); a name not synthesized is an error."""
    by_name = {stack.name: stack for stack in stacks}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise AssemblyError(f"the synthesized app has no stack {missing}; it has {sorted(by_name)}")
    return [by_name[name] for name in names]


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def describe(stacks: Sequence[AssemblyStack]) -> list[str]:
    """Lines for a person: each stack (in deployment order) and the resources it would manage."""
    lines = []
    for position, stack in enumerate(stacks, start=1):
        resources = planned_resources(stack.template)
        lines.append(
            f"stack {stack.name} in {stack.environment}, deployed {_ordinal(position)}: "
            f"{len(resources)} resources"
        )
        width = max((len(r.type) for r in resources), default=0)
        names = max((len(r.physical_name or "-") for r in resources), default=0)
        for r in resources:
            kept = "  (kept when the stack is deleted)" if r.retained else ""
            lines.append(f"  {r.type:<{width}}  {r.physical_name or '-':<{names}}  {r.logical_id}{kept}")
    return lines
