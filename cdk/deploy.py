"""``make deploy``: bootstrap both regions, then deploy the replica stack, then the source stack.

    python -m cdk.deploy [-c key=value ...] [--profile P] [--replica-profile P] [--dry-run]

The order matters: the replicator starts writing into the replica region as soon as its event
source mapping exists, so the replica and state tables must be there first. Each stack is
deployed with ``--exclusively`` in that order (rather than ``--all``) so that a replica in
another account can be deployed with that account's credentials (``--replica-profile``). With
``-c exportCheck=true`` the export-check stack follows, in the source account and region.

``--dry-run`` (``make deploy ARGS=--dry-run``) is a rehearsal that makes no AWS call: it prints
the bootstrap and deploy commands, then synthesizes the app offline (``cdk synth``, which also
runs cdk-nag) and prints each stack with every resource it would manage (``cdk.rehearsal``).

Commands run through ``npx cdk``: the CLI pinned (major version 2) in package.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdk.rehearsal import AssemblyError, describe, in_order, read_assembly
from deployconfig.config import DeploymentConfig, load

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK = ("npx", "cdk")
ASSEMBLY_DIR = REPO_ROOT / "cdk.out"
UNASKED_ACCOUNT = "ACCOUNT"
"""Stands for the credentials' account in a dry run without ``-c account=`` (STS is not asked)."""

Runner = Callable[[Sequence[str]], int]
"""Runs one command in the repository and returns its exit code."""


@dataclass(frozen=True, slots=True)
class Options:
    context: tuple[str, ...]  # "key=value" pairs, passed on to every cdk command
    profile: str | None = None
    replica_profile: str | None = None
    require_approval: str = "broadening"
    skip_bootstrap: bool = False


def _profile(profile: str | None) -> list[str]:
    return ["--profile", profile] if profile else []


def _context(options: Options) -> list[str]:
    return [arg for pair in options.context for arg in ("-c", pair)]


def plan(config: DeploymentConfig, account: str, options: Options) -> list[list[str]]:
    """The cdk commands of a deployment, in order (pure: nothing runs here)."""
    replica_account = config.replica_account or account
    replica_profile = options.replica_profile or options.profile
    commands: list[list[str]] = []
    replica_stack, *source_side = stack_order(config)
    if not options.skip_bootstrap:
        commands.append(
            [*CDK, "bootstrap", f"aws://{account}/{config.source_region}", *_profile(options.profile)]
        )
        commands.append(
            [
                *CDK,
                "bootstrap",
                f"aws://{replica_account}/{config.replica_region}",
                *_profile(replica_profile),
            ]
        )
    stacks = [(replica_stack, replica_profile), *((stack, options.profile) for stack in source_side)]
    for stack, profile in stacks:
        commands.append(
            [
                *CDK,
                "deploy",
                stack,
                "--exclusively",
                "--require-approval",
                options.require_approval,
                "--outputs-file",
                f"cdk-outputs-{stack}.json",
                *_context(options),
                *_profile(profile),
            ]
        )
    return commands


def synth_command(options: Options, outdir: Path) -> list[str]:
    """The offline synthesis of a dry run: the same context as the deploy, into ``outdir``."""
    return [*CDK, "synth", "--quiet", "--output", str(outdir), *_context(options)]


def stack_order(config: DeploymentConfig) -> tuple[str, ...]:
    """The stacks in the order :func:`plan` deploys them: the replica's first, then the source
    account's (the source stack, and the export-check stack when ``exportCheck`` is on)."""
    optional = (config.export_check_stack_name,) if config.export_check else ()
    return (config.replica_stack_name, config.source_stack_name, *optional)


def _run(command: Sequence[str]) -> int:
    return subprocess.run(list(command), cwd=REPO_ROOT, check=False).returncode  # noqa: S603


def _say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 (CLI output)


def caller_account(profile: str | None) -> str:
    """The account of the credentials in use (only asked when ``-c account=`` is not given)."""
    import boto3  # noqa: PLC0415 (only a real deployment needs AWS)

    session = boto3.Session(profile_name=profile) if profile else boto3.Session()
    return str(session.client("sts").get_caller_identity()["Account"])


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise SystemExit(f"-c expects key=value, got {pair!r}")
        overrides[key] = value
    return overrides


def _print_outputs(config: DeploymentConfig) -> None:
    for stack in stack_order(config):
        path = REPO_ROOT / f"cdk-outputs-{stack}.json"
        if path.exists():
            for key, value in json.loads(path.read_text()).get(stack, {}).items():
                print(f"{stack}.{key} = {value}")  # noqa: T201 (CLI output)


def rehearse(
    config: DeploymentConfig, options: Options, *, account_known: bool, run: Runner, outdir: Path
) -> int:
    """The dry run after the commands are printed: synthesize offline, list each stack's resources."""
    if not account_known:
        _say(
            f"dry run: nothing above is run. {UNASKED_ACCOUNT} is the account of the credentials in use "
            "(a deploy asks STS; a dry run makes no AWS call), or pass -c account=..."
        )
    else:
        _say("dry run: nothing above is run, and no AWS call is made.")
    _say("what each stack would deploy, from the app synthesized offline (cdk-nag runs too):")
    command = synth_command(options, outdir)
    _say("+ " + " ".join(command))
    returncode = run(command)
    if returncode != 0:
        print(f"dry run stopped: the synthesis failed ({returncode})", file=sys.stderr)  # noqa: T201
        return returncode
    try:
        stacks = in_order(read_assembly(outdir), stack_order(config))
    except AssemblyError as exc:
        print(f"dry run stopped: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    for line in describe(stacks):
        _say(line)
    return 0


def main(argv: Sequence[str] | None = None, *, run: Runner = _run, outdir: Path = ASSEMBLY_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m cdk.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--profile", help="AWS profile of the source account")
    parser.add_argument("--replica-profile", help="AWS profile of the replica account (default: --profile)")
    parser.add_argument(
        "--require-approval", default="broadening", choices=["never", "any-change", "broadening"]
    )
    parser.add_argument("--skip-bootstrap", action="store_true", help="both environments are bootstrapped")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="a rehearsal without AWS calls: print the commands, then synthesize offline and list "
        "every resource of each stack",
    )
    args = parser.parse_args(argv)

    config = load(_overrides(args.context))
    if config.account:
        account = config.account
    elif args.dry_run:
        account = UNASKED_ACCOUNT
    else:
        account = caller_account(args.profile)
    options = Options(
        context=tuple(args.context),
        profile=args.profile,
        replica_profile=args.replica_profile,
        require_approval=args.require_approval,
        skip_bootstrap=args.skip_bootstrap,
    )
    for command in plan(config, account, options):
        _say("+ " + " ".join(command))
        if args.dry_run:
            continue
        returncode = run(command)
        if returncode != 0:
            print(f"deploy stopped: `{' '.join(command)}` failed ({returncode})", file=sys.stderr)  # noqa: T201
            return returncode
    if args.dry_run:
        return rehearse(config, options, account_known=bool(config.account), run=run, outdir=outdir)
    _print_outputs(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
