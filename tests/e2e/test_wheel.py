"""The built wheel holds exactly the shipped packages, and both documented installs work anywhere.

``pip install .`` must give a working ``ddb-replicator`` with only the runtime dependencies, and
``pip install '.[local]'`` a working ``python -m localrun demo``; both are run here in a fresh
virtualenv, from a directory outside the checkout, so nothing can lean on the repository's sources.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"ddbstream", "telemetry", "deployconfig", "replicator", "metrics", "localrun", "jobs"}
# Not part of the source: copying them would be slow (node_modules) or could leak stale build
# output (setuptools packs whatever an earlier build left in build/lib).
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "cdk.out",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".cache",
    ".hypothesis",
    "demo-output",
)
PIP_TIMEOUT = 600


def _build_wheel(tmp_path: Path) -> Path:
    """The wheel ``pip install .`` would install, built from a copy so the checkout gets no build/."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(source)],
        check=True,
        capture_output=True,
        timeout=PIP_TIMEOUT,
    )
    (wheel,) = dist.glob("*.whl")
    return wheel


def _install(python: Path, requirement: str) -> None:
    # The dev pins as constraints: the declared ranges must admit them, and pip finds them cached.
    # A constraint never adds a package, so a missing dependency still shows up below.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-compile",
            "--constraint",
            str(ROOT / "requirements" / "dev.txt"),
            requirement,
        ],
        check=True,
        capture_output=True,
        timeout=PIP_TIMEOUT,
    )


def _shipped_sources() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for package in SHIPPED
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }


def test_the_wheel_holds_the_shipped_packages_and_both_installs_work(tmp_path):
    # GIVEN the wheel built from the project
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    # THEN it holds exactly the shipped packages, every module of each, and nothing else
    top_level = {name.split("/")[0].removesuffix(".py") for name in names if ".dist-info/" not in name}
    assert top_level == SHIPPED
    assert {name for name in names if name.endswith(".py")} == _shipped_sources()

    # GIVEN a fresh virtualenv with the wheel and its runtime dependencies only, and a directory
    # that is not the checkout, with no PYTHONPATH that could lead back to it
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    _install(python, str(wheel))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}

    def run(*command: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(part) for part in command],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    # WHEN the operator CLI is asked for help both ways
    script = run(bin_dir / "ddb-replicator", "--help")
    module = run(python, "-m", "replicator", "check", "--help")
    # THEN both work without the local runtime's dependencies
    assert script.returncode == 0, script.stderr
    assert "check" in script.stdout
    assert module.returncode == 0, module.stderr
    assert "--replica" in module.stdout
    # AND the local runtime, without its extra, says what to install instead of a traceback
    no_extra = run(python, "-m", "localrun", "demo", "--duration", "1")
    assert no_extra.returncode == 2
    assert "dynamodb-stream-replicator[local]" in no_extra.stderr
    assert "Traceback" not in no_extra.stderr
    # AND the export job's arguments and summary, which the CLI uses to submit it, need no pyspark
    interface = run(python, "-c", "import jobs.export_interface, sys; print('pyspark' in sys.modules)")
    assert (interface.returncode, interface.stdout.strip()) == (0, "False"), interface.stderr

    # GIVEN the `local` extra added to the same virtualenv
    _install(python, f"{wheel}[local]")
    # THEN from that directory every shipped package is the installed one, not the checkout's
    where = run(python, "-c", "import localrun, metrics, replicator; print(replicator.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv)
    # WHEN the shortest demo runs there (one second of workload, one-second tumbling windows)
    output = tmp_path / "demo-output"
    demo = run(
        python, "-m", "localrun", "demo", "--duration", "1", "--window", "1", "--output", output, timeout=300
    )
    # THEN it ends consistent (the check ran through the installed CLI) and wrote its dashboards
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "CONSISTENT" in demo.stdout
    for png in ("dashboard-replication.png", "dashboard-usage.png"):
        assert (output / png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "dashboard-replication.png" in (output / "index.html").read_text(encoding="utf-8")
