"""The Lambda assets, bundled without Docker, hold the handlers and arm64 wheels of their deps."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdk.constructs.bundling import PYTHON_VERSION, RUNTIME
from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")

CPYTHON_TAG = "cpython-" + PYTHON_VERSION.replace(".", "")


def _extension_modules(root: Path) -> list[Path]:
    return [path for path in root.rglob("*.so") if "cpython-" in path.name]


@pytest.mark.parametrize(
    ("function", "handler", "packages"),
    [
        pytest.param(
            "Users-replicator", "replicator/handler.py", ("ddbstream", "telemetry"), id="replicator"
        ),
        pytest.param("Users-usage-metrics", "metrics/handler.py", ("ddbstream", "telemetry"), id="metrics"),
    ],
)
def test_asset_holds_handler_shared_packages_and_emf_library(
    cdk_default: Synthesized, function, handler, packages
):
    asset = cdk_default.asset_dir(function)
    assert (asset / handler).is_file(), f"{handler} missing from the {function} asset"
    for package in packages:
        assert (asset / package / "__init__.py").is_file()
    assert (asset / "aws_embedded_metrics" / "__init__.py").is_file()
    # AND nothing of the development tree came along
    assert not list(asset.rglob("__pycache__"))
    assert not (asset / "tests").exists()
    assert not (asset / "cdk").exists()
    assert not (asset / "bin").exists()


def test_native_wheels_are_for_the_lambda_runtime_on_arm64(cdk_default: Synthesized):
    asset = cdk_default.asset_dir("Users-usage-metrics")
    assert (asset / "numpy").is_dir()
    assert (asset / "datasketches").is_dir()
    native = _extension_modules(asset)
    assert native, "expected compiled extension modules (numpy, aiohttp)"
    for module in native:
        assert CPYTHON_TAG in module.name and "aarch64" in module.name, module.name
    assert RUNTIME.name == f"python{PYTHON_VERSION}"


def test_replicator_asset_leaves_out_the_metrics_dependencies(cdk_default: Synthesized):
    asset = cdk_default.asset_dir("Users-replicator")
    assert not (asset / "numpy").exists()
    assert not (asset / "metrics").exists()
