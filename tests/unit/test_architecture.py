"""The rooms of docs/design.md, enforced: what each package may import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module of ``package`` with the top-level-qualified names it imports (type-only ones too)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in imported_modules(package).items()
        for name in names
        if any(name == f or name.startswith(f"{f}.") for f in forbidden)
    )


AWS_LIBRARIES = ("boto3", "botocore", "aws_embedded_metrics")


SPARK = ("pyspark", "py4j")


def libraries_loaded(imports: str, watched: tuple[str, ...] = AWS_LIBRARIES) -> set[str]:
    """Which of ``watched`` a fresh interpreter has loaded after running ``imports``."""
    code = f"import sys\n{imports}\nprint(' '.join(k.split('.')[0] for k in sys.modules))\n"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(loaded.stdout.split()) & set(watched)


def test_the_replicators_core_never_loads_an_aws_library():
    # GIVEN every module of the pure core, imported in a fresh interpreter
    loaded = libraries_loaded(
        "import importlib, pkgutil, replicator.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__): importlib.import_module('replicator.core.' + m.name)"
    )
    # THEN neither boto3 nor botocore was loaded, directly or through another module
    assert loaded & {"boto3", "botocore"} == set()
    assert offenders("replicator.core", ("boto3", "botocore", "mypy_boto3_dynamodb")) == []


def test_the_cli_report_is_pure_formatting_and_loads_no_aws_library():
    # GIVEN the CLI's report module, imported alone in a fresh interpreter
    loaded = libraries_loaded("import replicator.cli.report")
    # THEN neither boto3, botocore nor the EMF library was loaded, directly or through another module
    assert loaded == set()


def test_the_doctors_rules_and_report_are_pure_and_load_no_aws_library():
    # GIVEN every check of the doctor and its report, imported in a fresh interpreter
    loaded = libraries_loaded("import replicator.cli.doctor.checks, replicator.cli.doctor.report")
    # THEN no AWS library was loaded: the rules take views, only the gathering module calls AWS
    assert loaded == set()


def test_the_export_format_loads_no_aws_library_and_no_spark():
    # GIVEN the export layout and writer, imported in a fresh interpreter
    loaded = libraries_loaded(
        "import replicator.exports.layout, replicator.exports.writer", (*AWS_LIBRARIES, *SPARK)
    )
    # THEN no AWS library and no pyspark was loaded: the Spark job and the CLI both read exports with it
    assert loaded == set()
    assert offenders("replicator.exports", (*AWS_LIBRARIES, "mypy_boto3_dynamodb", *SPARK)) == []


def test_jobs_import_only_the_shared_rules_and_pyspark():
    # GIVEN every module of the distributed jobs
    allowed = ("jobs", "ddbstream", "replicator.core", "replicator.exports", *SPARK)
    # THEN each imports the standard library, the shared item rules and pyspark, nothing else
    outside = sorted(
        f"{module} imports {name}"
        for module, names in imported_modules("jobs").items()
        for name in names
        if name.split(".")[0] not in sys.stdlib_module_names
        and not any(name == a or name.startswith(f"{a}.") for a in allowed)
    )
    assert outside == []
    # AND running the job loads no AWS SDK (Spark reads S3 itself); its interface loads no Spark
    assert libraries_loaded("import jobs.export_compare") & {"boto3", "botocore"} == set()
    assert libraries_loaded("import jobs.export_interface", (*AWS_LIBRARIES, *SPARK)) == set()


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        pytest.param(
            "replicator", ("cdk", "localrun", "faultlab", "metrics", "tests", "bench"), id="replicator"
        ),
        pytest.param(
            "metrics", ("cdk", "localrun", "faultlab", "replicator", "tests", "bench"), id="metrics"
        ),
        pytest.param(
            "ddbstream", ("cdk", "localrun", "faultlab", "replicator", "metrics", "boto3"), id="ddbstream"
        ),
        pytest.param("telemetry", ("cdk", "localrun", "faultlab", "replicator", "metrics"), id="telemetry"),
        pytest.param("localrun", ("cdk", "faultlab", "tests", "bench"), id="local-runtime"),
        pytest.param("cdk", ("localrun", "faultlab", "tests", "bench"), id="cdk"),
        pytest.param("deployconfig", ("localrun", "faultlab", "tests", "bench"), id="deployconfig"),
        pytest.param("faultlab", ("tests", "bench"), id="fault-lab"),
    ],
)
def test_each_room_imports_only_what_it_may(package, forbidden):
    assert offenders(package, forbidden) == []


def test_tests_share_helpers_through_tests_support_only():
    # GIVEN every test module, conftest and support module
    tiers = ("unit", "integration", "property", "cdk", "e2e", "faults")
    # THEN none imports a test module or a conftest: what two tests share lives in tests/support
    assert offenders("tests", (*(f"tests.{tier}" for tier in tiers), "tests.conftest")) == []
