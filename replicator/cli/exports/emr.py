"""The ``emr-serverless`` engine of the export check: ship the job's code, start a run, wait for it.

The CLI calls three functions, with clients it created (S3 and EMR Serverless, in the region of the
export-check stack, whose outputs name the bucket, the application and the job role)::

    code = upload_job(s3, bucket, CODE_PREFIX, job_file, packages)   # JobCode (s3:// URIs)
    run_id = submit(emr, application_id, role_arn, code, job_args, name="Users export check",
                    log_uri=None, python_archive="s3://bucket/code/python-3.11-arm64.tar.gz")
    result = wait(emr, application_id, run_id, progress=say, sleep=time.sleep,
                  clock=time.monotonic, timeout_seconds=3 * 3600)  # JobRunResult, or raises

- :func:`upload_job` zips the pure packages the job imports (``ddbstream``, ``replicator.core``,
  ``replicator.exports``, ``jobs``: :func:`job_sources` finds them in this installation) with
  fixed timestamps, so the same code gives the same bytes, and uploads the zip and the job file
  under ``<prefix><sha256 of both>/``; an object already there is not uploaded again.
- :func:`submit` starts the job run (``StartJobRun``): ``spark-submit`` of the job file with
  ``job_args`` (the job's own command line: ``--source s3://... --replica s3://... --output
  s3://... --key-names ... --now EPOCH``) and the zip on ``--py-files``; with ``python_archive``,
  the job's driver and executors run that archive's Python (docs/deployment.md, "The export
  check's Python").
- :func:`wait` polls ``GetJobRun`` with a growing interval until the run ends, telling ``progress``
  each state it enters. It returns on SUCCESS; a FAILED or CANCELLED run raises
  :class:`JobRunFailed` with EMR Serverless's ``stateDetails``; past ``timeout_seconds`` it cancels
  the run and raises :class:`JobRunTimedOut`; on KeyboardInterrupt it cancels the run and
  re-raises. It cancels because nothing would read the results of a run the CLI stopped waiting
  for, and the run would go on spending up to the application's ceiling until its own execution
  timeout (12 hours by default).

Nothing here reads an item: the job's code goes up, ids and states come back.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import io
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from replicator.cli.errors import CliError
from replicator.cli.exports.s3 import object_exists
from replicator.permissions import CODE_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_emr_serverless import EMRServerlessClient
    from mypy_boto3_emr_serverless.type_defs import JobRunTypeDef, StartJobRunRequestTypeDef
    from mypy_boto3_s3 import S3Client

__all__ = [
    "CODE_PREFIX",
    "JOB_PACKAGES",
    "JobCode",
    "JobRunFailed",
    "JobRunResult",
    "JobRunTimedOut",
    "job_sources",
    "spark_submit_parameters",
    "submit",
    "upload_job",
    "wait",
]

JOB_PACKAGES = ("ddbstream", "replicator.core", "replicator.exports", "jobs")
"""What the job imports: pure packages only (no boto3, which the EMR image need not have)."""
JOB_MODULE = "jobs.export_compare"

# A zip entry's time is part of its bytes: a fixed one makes the archive (and so its key) a
# function of the code alone. 1980-01-01 is the earliest time a zip can hold.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# Polling: EMR Serverless takes tens of seconds to start a run and minutes to finish one; a
# growing interval answers a quick run quickly and costs a long one few GetJobRun calls.
FIRST_POLL_SECONDS = 5.0
MAX_POLL_SECONDS = 30.0
_ENDED = {"SUCCESS", "FAILED", "CANCELLED"}


class JobRunFailed(CliError):
    """The job run ended FAILED or CANCELLED; the message carries EMR Serverless's stateDetails."""


class JobRunTimedOut(CliError):
    """The job run had not ended within the CLI's timeout; it was cancelled."""


@dataclass(frozen=True, slots=True)
class JobCode:
    """Where the job's code is in S3: the entry point and the zip of its packages."""

    bucket: str
    entry_point_key: str
    packages_key: str

    @property
    def entry_point(self) -> str:
        return f"s3://{self.bucket}/{self.entry_point_key}"

    @property
    def packages(self) -> str:
        return f"s3://{self.bucket}/{self.packages_key}"


@dataclass(frozen=True, slots=True)
class JobRunResult:
    """A job run that ended in SUCCESS, with what EMR Serverless billed for it."""

    job_run_id: str
    state: str
    execution_seconds: int
    vcpu_hours: float
    memory_gb_hours: float
    storage_gb_hours: float


def job_sources(packages: Sequence[str] = JOB_PACKAGES, module: str = JOB_MODULE) -> tuple[Path, list[Path]]:
    """The job file and the directories of its packages, wherever this installation has them."""
    directories = []
    for name in packages:
        spec = _find(name)
        if spec is None or not spec.submodule_search_locations:
            raise CliError(f"package {name!r} of the export job is not installed; reinstall the replicator")
        directories.append(Path(next(iter(spec.submodule_search_locations))))
    job = _find(module)
    if job is None or job.origin is None:
        raise CliError(f"the export job {module!r} is not installed; reinstall the replicator")
    return Path(job.origin), directories


def _find(name: str) -> importlib.machinery.ModuleSpec | None:
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:  # a parent package is missing
        return None


def _import_root(package: Path) -> Path:
    """The directory a package is imported from: above its outermost folder with an ``__init__.py``."""
    root = package.resolve()
    while (root / "__init__.py").is_file():
        root = root.parent
    if root == package.resolve():
        raise ValueError(f"{str(package)!r} is not a Python package (no __init__.py)")
    return root


def _package_files(package: Path) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file) for the package's modules and the ``__init__.py`` of its parents."""
    root = _import_root(package)
    folder = package.resolve()
    for parent in folder.relative_to(root).parents:
        if parent != Path("."):
            init = root / parent / "__init__.py"
            yield (parent / "__init__.py").as_posix(), init
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path.relative_to(root).as_posix(), path


def package_zip(packages: Sequence[Path]) -> bytes:
    """A deterministic zip of the packages' ``.py`` files, importable as ``--py-files``."""
    entries = dict(entry for package in packages for entry in _package_files(package))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name].read_bytes())
    return buffer.getvalue()


def _put_once(s3_client: S3Client, bucket: str, key: str, body: bytes, content_type: str) -> None:
    # The key names the content: an object already there holds these bytes.
    if not object_exists(s3_client, bucket, key):
        s3_client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def upload_job(
    s3_client: S3Client, bucket: str, prefix: str, job_file: Path, packages: Sequence[Path]
) -> JobCode:
    """Upload the job file and a zip of ``packages`` under ``<prefix><content hash>/``, each once.

    ``prefix`` is normally :data:`CODE_PREFIX` (the job role may read only there). Needs
    s3:GetObject (the existence check; without s3:ListBucket a missing object answers 403) and
    s3:PutObject on the prefix.
    """
    if prefix and not prefix.endswith("/"):
        raise ValueError(f"prefix {prefix!r} must end with '/'")
    job = job_file.read_bytes()
    archive = package_zip(packages)
    digest = hashlib.sha256()
    for part in (job, archive):
        digest.update(hashlib.sha256(part).digest())
    folder = f"{prefix}{digest.hexdigest()[:32]}/"
    code = JobCode(bucket, f"{folder}{job_file.name}", f"{folder}packages.zip")
    _put_once(s3_client, bucket, code.entry_point_key, job, "text/x-python")
    _put_once(s3_client, bucket, code.packages_key, archive, "application/zip")
    return code


def spark_submit_parameters(code: JobCode, python_archive: str | None = None) -> str:
    """The ``sparkSubmitParameters`` of a run: the packages zip, and the custom Python if given.

    The catalogue is Spark's in-memory one: the job reads and writes files only, and EMR
    Serverless's default (the Glue Data Catalog) would need Glue permissions the job role has not.
    A custom Python is the documented virtual-environment archive: unpacked as ``environment`` in
    the working directory of the driver and of each executor, whose ``bin/python`` runs PySpark
    there ("Using Python libraries with EMR Serverless",
    https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/using-python-libraries.html).
    """
    parameters = [
        f"--py-files {code.packages}",
        "--conf spark.sql.catalogImplementation=in-memory",
    ]
    if python_archive is not None:
        if not python_archive.startswith("s3://") or any(c.isspace() for c in python_archive):
            raise ValueError(
                f"the Python archive must be an s3:// URI without spaces, got {python_archive!r}"
            )
        python = "./environment/bin/python"
        parameters += [
            f"--conf spark.archives={python_archive}#environment",
            f"--conf spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON={python}",
            f"--conf spark.emr-serverless.driverEnv.PYSPARK_PYTHON={python}",
            f"--conf spark.executorEnv.PYSPARK_PYTHON={python}",
        ]
    return " ".join(parameters)


def submit(
    emr_client: EMRServerlessClient,
    application_id: str,
    role_arn: str,
    code: JobCode,
    job_args: Sequence[str],
    *,
    name: str,
    log_uri: str | None = None,
    python_archive: str | None = None,
) -> str:
    """Start the job run and return its id. ``log_uri`` overrides the application's log location.

    Needs emr-serverless:StartJobRun on the application and iam:PassRole on ``role_arn``.
    """
    request: StartJobRunRequestTypeDef = {
        "applicationId": application_id,
        # Each call is a new run: the operator running the check again means to run it again.
        "clientToken": str(uuid.uuid4()),
        "executionRoleArn": role_arn,
        "name": name,
        "jobDriver": {
            "sparkSubmit": {
                "entryPoint": code.entry_point,
                "entryPointArguments": list(job_args),
                "sparkSubmitParameters": spark_submit_parameters(code, python_archive),
            }
        },
    }
    if log_uri:
        request["configurationOverrides"] = {
            "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": log_uri}}
        }
    return emr_client.start_job_run(**request)["jobRunId"]


def _result(run: JobRunTypeDef) -> JobRunResult:
    billed = run.get("billedResourceUtilization", {})
    return JobRunResult(
        job_run_id=run["jobRunId"],
        state=run["state"],
        execution_seconds=run.get("totalExecutionDurationSeconds", 0),
        vcpu_hours=billed.get("vCPUHour", 0.0),
        memory_gb_hours=billed.get("memoryGBHour", 0.0),
        storage_gb_hours=billed.get("storageGBHour", 0.0),
    )


def _cancel(emr_client: EMRServerlessClient, application_id: str, job_run_id: str) -> str:
    """Ask EMR Serverless to cancel the run; what to tell the operator about it."""
    try:
        emr_client.cancel_job_run(applicationId=application_id, jobRunId=job_run_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        return (
            f"cancelling it failed ({code}): cancel it with `aws emr-serverless cancel-job-run "
            f"--application-id {application_id} --job-run-id {job_run_id}`"
        )
    return "it was cancelled"


def wait(
    emr_client: EMRServerlessClient,
    application_id: str,
    job_run_id: str,
    *,
    progress: Callable[[str], None],
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    timeout_seconds: float,
) -> JobRunResult:
    """Poll the run until it ends; report each new state; see the module docstring for the ends.

    Needs emr-serverless:GetJobRun and emr-serverless:CancelJobRun on the application.
    """
    started = clock()
    interval = FIRST_POLL_SECONDS
    state = ""
    try:
        while True:
            run = emr_client.get_job_run(applicationId=application_id, jobRunId=job_run_id)["jobRun"]
            elapsed = clock() - started
            if run["state"] != state:
                state = run["state"]
                progress(f"EMR Serverless job run {job_run_id}: {state} after {elapsed:,.0f} s")
            if state == "SUCCESS":
                return _result(run)
            if state in _ENDED:
                raise JobRunFailed(
                    f"EMR Serverless job run {job_run_id} of application {application_id} ended "
                    f"{state}: {run.get('stateDetails') or 'no details given'}. Its driver's log is "
                    "under the application's log URI (logs/ in the export bucket), "
                    f"applications/{application_id}/jobs/{job_run_id}/SPARK_DRIVER/"
                )
            if elapsed >= timeout_seconds:
                outcome = _cancel(emr_client, application_id, job_run_id)
                raise JobRunTimedOut(
                    f"EMR Serverless job run {job_run_id} of application {application_id} was still "
                    f"{state} after {timeout_seconds:,.0f} s; {outcome}. Raise the timeout, or the "
                    "application's capacity, and run the check again"
                )
            sleep(min(interval, max(timeout_seconds - elapsed, 0.0)))
            interval = min(interval * 2, MAX_POLL_SECONDS)
    except KeyboardInterrupt:
        progress(
            f"interrupted: EMR Serverless job run {job_run_id}: "
            f"{_cancel(emr_client, application_id, job_run_id)}"
        )
        raise
