"""Local (Docker-free) bundling: what decides when a Lambda asset is rebuilt, what goes in."""

from __future__ import annotations

from pathlib import Path

from cdk.constructs import bundling
from cdk.constructs.bundling import METRICS, REPLICATOR, LambdaPackage


def test_fingerprint_follows_the_sources_and_ignores_bytecode(tmp_path: Path, monkeypatch):
    # GIVEN a package tree in a scratch repository root
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("X = 1\n")
    requirements = root / "requirements.txt"
    requirements.write_text("aws-embedded-metrics==3.5.0\n")
    monkeypatch.setattr(bundling, "REPO_ROOT", root)
    package = LambdaPackage("pkg", ("pkg",), requirements)
    before = package.fingerprint()
    # WHEN only bytecode and tests appear, the asset is the same
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (root / "pkg" / "tests").mkdir()
    (root / "pkg" / "tests" / "test_x.py").write_text("def test(): ...\n")
    assert package.fingerprint() == before
    # WHEN a source file or a pin changes, it is not
    (root / "pkg" / "__init__.py").write_text("X = 2\n")
    changed = package.fingerprint()
    assert changed != before
    requirements.write_text("aws-embedded-metrics==3.4.0\n")
    assert package.fingerprint() != changed


def test_packages_name_existing_directories_and_pinned_requirements():
    for package in (REPLICATOR, METRICS):
        for name in package.packages:
            assert (package.requirements.parents[1] / name).is_dir(), name
        pins = [
            line
            for line in package.requirements.read_text().splitlines()
            if line and not line.startswith("#")
        ]
        assert pins and all("==" in pin for pin in pins), package.requirements
