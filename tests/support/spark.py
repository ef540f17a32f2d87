"""One local SparkSession for the test run (shared by every Spark test module, and by the CLI's local
engine, which uses an active session as it is): ``local[2]`` (the CI machine has 2 cores), few shuffle
partitions (fixtures are small), no UI. A session takes 5-10 s to start, so the run shares one,
and Spark tests sit in one xdist group (``@pytest.mark.xdist_group("spark")``) so that only one
worker starts a JVM.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    # Imported here: the integration tier's conftest loads this module, and only Spark tests need a JVM.
    from pyspark.sql import SparkSession  # noqa: PLC0415

    with pytest.MonkeyPatch.context() as patch:
        # Python workers run this interpreter and import this checkout's code, wherever pytest runs.
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("tests")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.executorEnv.PYTHONPATH", str(ROOT))
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()
