"""The local SparkSession of the Spark tests: ``local[2]`` (the CI machine has 2 cores), few shuffle
partitions (fixtures are small), no UI.

Starting Spark costs 5-10 s (the JVM, then the first job's warm-up); the JVM then lives as long as
the test process, whether or not the session is stopped. So :func:`local_session` takes the running
session if there is one (``getOrCreate``) and nothing here stops it: every test, module and
session-scoped fixture on an xdist worker shares one, and code under test that stops it only costs
the next caller a new context.
Spark tests also sit in one xdist group (``@pytest.mark.xdist_group("spark")``) so that, where the
group takes effect, one worker starts a JVM.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ROOT = Path(__file__).resolve().parents[2]


def local_session() -> SparkSession:
    """The running local session, or a new one."""
    # Imported here: the integration tier's conftest loads this module, and only Spark tests need a JVM.
    from pyspark.sql import SparkSession  # noqa: PLC0415

    with pytest.MonkeyPatch.context() as patch:
        # Python workers run this interpreter and import this checkout's code, wherever pytest runs
        # (a SparkContext reads PYSPARK_PYTHON when it starts).
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
    return session


@pytest.fixture
def spark() -> SparkSession:
    return local_session()
