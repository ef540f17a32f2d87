"""Where the Spark comparison runs: PySpark in this process, or a job run on EMR Serverless.

Both run the same job file (``jobs/export_compare.py``) with the same arguments
(:class:`jobs.export_interface.JobArgs`)
and leave the same output: ``differences/`` and ``summary/`` as JSON lines, read back by
:func:`read_output` from a local folder or an ``s3://`` prefix.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jobs.export_interface import JobArgs, JobSummary
from replicator.cli.errors import CliError, UsageError
from replicator.cli.exports import emr
from replicator.cli.exports.options import EmrOptions, Engine, S3Uri
from replicator.cli.exports.results import parse_differences
from replicator.core.compare import Difference
from replicator.exports.errors import ExportFormatError

DIFFERENCES, SUMMARY = "differences", "summary"


class JobFailed(CliError):
    """The Spark job did not finish, or left output the check cannot read."""


class SparkEngine(Protocol):
    name: Engine

    def run(self, request: JobArgs) -> None:
        """Run the job to its end; raise JobFailed when it did not succeed."""


@dataclass
class LocalEngine:
    """The job in this process on ``local[*]``: every core of this machine, no cluster.

    Spark's Python workers run this interpreter, which has this installation's packages; an active
    session (a test's, a notebook's) is used as it is and left running.
    """

    name: Engine = Engine.LOCAL
    say: Callable[[str], None] = print

    def run(self, request: JobArgs) -> None:
        try:
            from pyspark.sql import SparkSession  # noqa: PLC0415 - optional: only this engine needs it
        except ImportError:
            raise UsageError(
                "the local engine needs PySpark and Java 17: pip install 'dynamodb-stream-replicator[spark]'"
            ) from None
        from jobs import export_compare  # noqa: PLC0415 - imports pyspark

        active = SparkSession.getActiveSession()
        spark = active or (
            SparkSession.builder.master("local[*]")
            .appName("ddb-export-check")
            .config("spark.pyspark.python", sys.executable)
            .config("spark.executorEnv.PYTHONPATH", str(Path(export_compare.__file__).resolve().parents[1]))
            # Few shuffle partitions on one machine: the default 200 are tasks of a few rows each.
            .config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2)))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        try:
            self.say(f"comparing the exports on Spark ({spark.sparkContext.master})")
            export_compare.run(spark, request)
        except ExportFormatError as exc:
            raise JobFailed(f"an export is malformed: {exc}") from None
        finally:
            if active is None:
                spark.stop()


@dataclass
class EmrEngine:
    """The job as a run of the export-check stack's EMR Serverless application.

    The job's code is uploaded under the bucket's ``code/`` prefix (once per version of the code),
    the run reads the exports with the application's job role and writes under ``results/``.
    """

    options: EmrOptions
    client: Any
    s3: Any
    say: Callable[[str], None]
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    name: Engine = Engine.EMR_SERVERLESS

    def run(self, request: JobArgs) -> None:
        output = S3Uri.parse(request.output)
        code_at = self.options.code or S3Uri(output.bucket, emr.CODE_PREFIX)
        job_file, packages = emr.job_sources()
        code = emr.upload_job(self.s3, code_at.bucket, f"{code_at.prefix.strip('/')}/", job_file, packages)
        run_id = emr.submit(
            self.client,
            self.options.application_id,
            self.options.job_role_arn,
            code,
            request.argv(),
            name="export check",
            python_archive=self.options.python_archive,
        )
        self.say(f"started EMR Serverless job run {run_id} on application {self.options.application_id}")
        result = emr.wait(
            self.client,
            self.options.application_id,
            run_id,
            progress=self.say,
            sleep=self.sleep,
            clock=self.clock,
            timeout_seconds=self.options.timeout_seconds,
        )
        self.say(
            f"job run {run_id} succeeded in {result.execution_seconds:,} s: "
            f"{result.vcpu_hours:,.2f} vCPU-hours, {result.memory_gb_hours:,.2f} GB-hours billed"
        )


def read_output(output: str, s3: Any) -> tuple[JobSummary, Iterator[Difference]]:
    """The job's summary and its differences (streamed), from a folder or an ``s3://`` prefix."""
    try:
        (line,) = [text for text in _lines(output, SUMMARY, s3) if text.strip()]
        summary = JobSummary.from_json(line)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise JobFailed(f"the job left no readable summary under {output} ({type(exc).__name__})") from None
    return summary, parse_differences(_lines(output, DIFFERENCES, s3))


def _lines(output: str, part: str, s3: Any) -> Iterator[str]:
    if output.startswith("s3://"):
        uri = S3Uri.parse(output).join(part)
        for key in _keys(s3, uri):
            for raw in s3.get_object(Bucket=uri.bucket, Key=key)["Body"].iter_lines():
                yield raw.decode("utf-8")
        return
    folder = Path(output) / part
    if not folder.is_dir():
        raise FileNotFoundError(f"no {part}/ folder")
    for path in sorted(folder.glob("part-*")):
        with path.open(encoding="utf-8") as lines:
            yield from lines


def _keys(s3: Any, uri: S3Uri) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=uri.bucket, Prefix=f"{uri.prefix}/"):
        keys += [
            o["Key"] for o in page.get("Contents", []) if o["Key"].rsplit("/", 1)[-1].startswith("part-")
        ]
    return sorted(keys)
