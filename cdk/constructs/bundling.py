"""Lambda code assets built without Docker: our packages plus pip-installed arm64 wheels.

CDK's usual Python bundling runs ``pip`` inside a Docker image of the Lambda runtime. There is no
Docker engine on build machines like ours, so :class:`PipBundler` (a jsii ``ILocalBundling``)
builds the asset on the host: it copies our pure-Python packages and lets ``pip`` fetch the
binary wheels *for the target* (``--platform ... --python-version``), never for the host.

Downloaded wheels are kept in ``.cache/wheels`` at the repository root, so only the first synth
on a machine needs the package index; later ones (and every test session) install offline.
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parents[2]
WHEEL_CACHE = REPO_ROOT / ".cache" / "wheels"

# The newest Python runtime whose wheels all our dependencies publish for arm64: datasketches
# 5.2.0 has no cp314 wheels, so 3.14 is out until it does. PYTHON_VERSION must match RUNTIME.
RUNTIME = lambda_.Runtime.PYTHON_3_13
PYTHON_VERSION = "3.13"
ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels
# (numpy >= 2.3 ships only those for aarch64) load there, as do the older manylinux2014 ones.
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
# Bump when the bundling procedure changes, so assets built the old way are not reused.
BUNDLER_VERSION = "1"

_SKIPPED_NAMES = ("__pycache__", "*.pyc", "tests", "test_*.py", "*_test.py")
_SKIP = shutil.ignore_patterns(*_SKIPPED_NAMES)


def _skipped(relative: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in _SKIPPED_NAMES)


class BundlingError(RuntimeError):
    """Building a Lambda asset failed; the message carries pip's output."""


@dataclass(frozen=True, slots=True)
class LambdaPackage:
    """What one function's asset holds: our packages and a pinned requirements file."""

    name: str
    packages: tuple[str, ...]
    requirements: Path

    def fingerprint(self) -> str:
        """A hash of everything that goes into the asset, so CDK rebuilds exactly when it changes."""
        digest = hashlib.sha256()
        for part in (BUNDLER_VERSION, PYTHON_VERSION, *PLATFORMS, RUNTIME.name, ARCHITECTURE.name):
            digest.update(part.encode() + b"\0")
        digest.update(self.requirements.read_bytes())
        for package in self.packages:
            for path in sorted((REPO_ROOT / package).rglob("*")):
                relative = path.relative_to(REPO_ROOT)
                if not path.is_file() or _skipped(relative):
                    continue
                digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()


REPLICATOR = LambdaPackage(
    "replicator",
    ("ddbstream", "telemetry", "replicator"),
    REPO_ROOT / "requirements" / "lambda-replicator.txt",
)
METRICS = LambdaPackage(
    "metrics",
    ("ddbstream", "telemetry", "metrics"),
    REPO_ROOT / "requirements" / "lambda-metrics.txt",
)


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def _target_args() -> list[str]:
    args = ["--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp"]
    for platform in PLATFORMS:
        args += ["--platform", platform]
    return args


def install_requirements(requirements: Path, target: Path, cache: Path = WHEEL_CACHE) -> None:
    """Install pinned wheels for the Lambda platform into ``target``, from the cache if possible."""
    cache.mkdir(parents=True, exist_ok=True)
    install = [
        "install",
        "--no-index",
        "--find-links",
        str(cache),
        "--target",
        str(target),
        "--no-compile",  # .pyc files for the host's Python would be useless on the runtime's
        "--quiet",
        *_target_args(),
        "-r",
        str(requirements),
    ]
    if _pip(*install).returncode == 0:
        return
    download = _pip("download", "--quiet", "--dest", str(cache), *_target_args(), "-r", str(requirements))
    if download.returncode != 0:
        raise BundlingError(
            f"pip could not download the wheels of {requirements} for python{PYTHON_VERSION} on "
            f"{'/'.join(PLATFORMS)} (is the package index reachable?):\n{download.stderr}"
        )
    retry = _pip(*install)
    if retry.returncode != 0:
        raise BundlingError(f"pip could not install {requirements} into the asset:\n{retry.stderr}")


@jsii.implements(ILocalBundling)
class PipBundler:
    """Builds one function's asset on the host (CDK calls :meth:`try_bundle` before any Docker)."""

    def __init__(self, package: LambdaPackage) -> None:
        self._package = package

    # jsii passes the BundlingOptions fields as keyword arguments; only ``image`` is declared
    # because nothing else is used.
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        out = Path(output_dir)
        for package in self._package.packages:
            shutil.copytree(REPO_ROOT / package, out / package, ignore=_SKIP, dirs_exist_ok=True)
        install_requirements(self._package.requirements, out)
        # Console scripts of dependencies (numpy's f2py) have no use in a Lambda function.
        shutil.rmtree(out / "bin", ignore_errors=True)
        return True


def lambda_code(package: LambdaPackage) -> lambda_.Code:
    """The function code asset of ``package``, bundled locally."""
    return lambda_.Code.from_asset(
        str(REPO_ROOT),
        asset_hash=package.fingerprint(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            # Never pulled or run: PipBundler always succeeds or raises, so CDK never falls back
            # to Docker. BundlingOptions merely requires an image.
            image=DockerImage.from_registry("unused"),
            local=PipBundler(package),
        ),
    )
