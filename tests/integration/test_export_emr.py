"""The EMR Serverless engine of the export check: code upload (moto's S3), job submission and waiting.

moto's EMR Serverless starts every job run in SUCCESS and keeps it there (a cancel sets CANCELLED):
the submitted request and a successful wait are shown against it. The states moto never takes
(SUBMITTED, RUNNING, FAILED with stateDetails), and so the timeout, the interrupt and the failure,
are shown with botocore's Stubber, which checks each request against EMR Serverless's model.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

import ddbstream
import replicator.core
from replicator.cli.errors import CliError
from replicator.cli.exports.emr import (
    CODE_PREFIX,
    JobCode,
    JobRunFailed,
    JobRunResult,
    JobRunTimedOut,
    job_sources,
    package_zip,
    spark_submit_parameters,
    submit,
    upload_job,
    wait,
)

REGION = "us-east-1"
BUCKET = "users-export-check"
ROLE = "arn:aws:iam::123456789012:role/UsersExportJob"
PACKAGES = [Path(ddbstream.__file__).parent, Path(replicator.core.__file__).parent]
APPLICATION = "00abcdefghijklmn"
RUN = "00runabcdefghijk"


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def job_file(tmp_path: Path) -> Path:
    path = tmp_path / "export_compare.py"
    path.write_text("import sys\nprint(sys.argv[1:])\n")
    return path


def _puts(client: Any) -> list[str]:
    """The keys of every PutObject the client sends from now on."""
    keys: list[str] = []
    client.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: keys.append(params["Key"])
    )
    return keys


def test_the_code_goes_up_under_its_content_hash_and_imports_from_the_zip(s3, job_file, tmp_path):
    # WHEN the job file and two real packages are uploaded
    code = upload_job(s3, BUCKET, CODE_PREFIX, job_file, PACKAGES)
    # THEN both sit in one folder under code/, named by a hash of their contents
    folder = code.entry_point_key.removesuffix("export_compare.py")
    assert folder.startswith(CODE_PREFIX) and len(folder) == len(CODE_PREFIX) + 33
    assert code.packages_key == f"{folder}packages.zip"
    assert code.entry_point == f"s3://{BUCKET}/{folder}export_compare.py"
    assert s3.get_object(Bucket=BUCKET, Key=code.entry_point_key)["Body"].read() == job_file.read_bytes()
    archive = s3.get_object(Bucket=BUCKET, Key=code.packages_key)["Body"].read()
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    # AND the zip holds the packages' modules with their parents' __init__, no bytecode
    assert {"ddbstream/__init__.py", "replicator/__init__.py", "replicator/core/compare.py"} <= set(names)
    assert not [name for name in names if not name.endswith(".py")]
    assert not [name for name in names if name.startswith(("replicator/cli", "replicator/adapters"))]
    # AND a Python given only the zip (as --py-files gives it) imports the rule from it
    (tmp_path / "packages.zip").write_bytes(archive)
    found = subprocess.run(
        [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "import replicator.core.compare as m; print(m.__file__)", str(tmp_path / "packages.zip")],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert found.stdout.strip() == str(tmp_path / "packages.zip" / "replicator" / "core" / "compare.py")


def test_the_same_code_is_not_uploaded_twice(s3, job_file):
    # GIVEN the code uploaded once
    first = upload_job(s3, BUCKET, CODE_PREFIX, job_file, PACKAGES)
    puts = _puts(s3)
    # WHEN the same code is uploaded again
    again = upload_job(s3, BUCKET, CODE_PREFIX, job_file, PACKAGES)
    # THEN it names the same objects and writes nothing
    assert again == first
    assert puts == []


def test_changed_code_goes_to_a_new_folder_and_the_old_one_stays(s3, job_file):
    first = upload_job(s3, BUCKET, CODE_PREFIX, job_file, PACKAGES)
    puts = _puts(s3)
    job_file.write_text(job_file.read_text() + "# changed\n")
    second = upload_job(s3, BUCKET, CODE_PREFIX, job_file, PACKAGES)
    assert second.entry_point_key != first.entry_point_key
    # (the zip is the same bytes, but it goes with its job file into the new folder)
    assert puts == [second.entry_point_key, second.packages_key]
    assert s3.head_object(Bucket=BUCKET, Key=first.entry_point_key)["ContentLength"] > 0


def test_the_zip_depends_on_the_code_only_not_on_file_times(tmp_path):
    # GIVEN a package, zipped once
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    for path in (package / "__init__.py", package / "sub" / "__init__.py", package / "sub" / "m.py"):
        path.write_text(f"# {path.name}\n")
    (package / "sub" / "__pycache__").mkdir()
    (package / "sub" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    before = package_zip([package / "sub"])
    # WHEN its files are touched
    for path in package.rglob("*.py"):
        path.touch()
    # THEN the zip is the same bytes, holding the parent's __init__ and no bytecode
    assert package_zip([package / "sub"]) == before
    assert zipfile.ZipFile(io.BytesIO(before)).namelist() == [
        "pkg/__init__.py",
        "pkg/sub/__init__.py",
        "pkg/sub/m.py",
    ]


def test_a_folder_that_is_not_a_package_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is not a Python package"):
        package_zip([tmp_path])


def test_a_prefix_must_be_a_folder(s3, job_file):
    with pytest.raises(ValueError, match="must end with '/'"):
        upload_job(s3, BUCKET, "code", job_file, PACKAGES)


def test_an_access_error_on_the_existence_check_is_not_taken_for_a_missing_object(job_file):
    # GIVEN S3 refusing the HEAD (no s3:GetObject on the prefix)
    client = boto3.client("s3", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("head_object", service_error_code="403", http_status_code=403)
        # THEN the upload stops there instead of writing blindly
        with pytest.raises(ClientError, match="403"):
            upload_job(client, BUCKET, CODE_PREFIX, job_file, PACKAGES)
        stub.assert_no_pending_responses()


def test_job_sources_finds_the_installed_packages_and_names_a_missing_one():
    job, packages = job_sources(("ddbstream", "replicator.core"), "replicator.core.compare")
    assert job == Path(replicator.core.__file__).parent / "compare.py"
    assert packages == PACKAGES
    with pytest.raises(CliError, match=r"package 'nowhere\.jobs' of the export job is not installed"):
        job_sources(("nowhere.jobs",), "replicator.core.compare")


CODE = JobCode(BUCKET, "code/abc/export_compare.py", "code/abc/packages.zip")


def test_spark_submit_parameters_ship_the_zip_and_use_the_in_memory_catalogue():
    assert spark_submit_parameters(CODE) == (
        f"--py-files s3://{BUCKET}/code/abc/packages.zip --conf spark.sql.catalogImplementation=in-memory"
    )


def test_a_python_archive_runs_the_driver_and_executors_on_its_python():
    archive = f"s3://{BUCKET}/code/python-3.11-arm64.tar.gz"
    parameters = spark_submit_parameters(CODE, archive).split(" --conf ")
    assert parameters[2:] == [
        f"spark.archives={archive}#environment",
        "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON=./environment/bin/python",
        "spark.emr-serverless.driverEnv.PYSPARK_PYTHON=./environment/bin/python",
        "spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python",
    ]


@pytest.mark.parametrize(
    "archive",
    [
        pytest.param("/tmp/python.tar.gz", id="local-path"),
        pytest.param("s3://bucket/my python.tar.gz", id="space"),
    ],
)
def test_a_python_archive_must_be_an_s3_uri_without_spaces(archive):
    with pytest.raises(ValueError, match="must be an s3:// URI without spaces"):
        spark_submit_parameters(CODE, archive)


@pytest.fixture
def emr(aws: None) -> Iterator[tuple[Any, str]]:
    client = boto3.client("emr-serverless", region_name=REGION)
    application = client.create_application(
        name="Users-export-check", releaseLabel="emr-7.9.0", type="SPARK", clientToken="t"
    )
    yield client, application["applicationId"]


def test_submit_starts_the_job_file_with_its_arguments_packages_and_logs(emr):
    client, application = emr
    args = [
        "--source",
        "s3://b/exports/src/AWSDynamoDB/01/",
        "--key-names",
        "user_id,timestamp",
        "--now",
        "1",
    ]
    # WHEN the job is submitted with a log location of its own
    run_id = submit(client, application, ROLE, CODE, args, name="Users export check", log_uri="s3://b/logs/")
    # THEN EMR Serverless holds a run of the job file, with those arguments, the zip and the role
    run = client.get_job_run(applicationId=application, jobRunId=run_id)["jobRun"]
    assert run["jobDriver"] == {
        "sparkSubmit": {
            "entryPoint": f"s3://{BUCKET}/code/abc/export_compare.py",
            "entryPointArguments": args,
            "sparkSubmitParameters": spark_submit_parameters(CODE),
        }
    }
    assert (run["executionRole"], run["name"]) == (ROLE, "Users export check")
    assert run["configurationOverrides"] == {
        "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": "s3://b/logs/"}}
    }


def test_wait_returns_a_successful_run_with_its_billing(emr):
    client, application = emr
    run_id = submit(client, application, ROLE, CODE, [], name="check")
    said: list[str] = []
    result = wait(
        client,
        application,
        run_id,
        progress=said.append,
        sleep=_no_sleep,
        clock=lambda: 0.0,
        timeout_seconds=60,
    )
    assert result == JobRunResult(run_id, "SUCCESS", 0, 0.0, 0.0, 0.0)
    assert said == [f"EMR Serverless job run {run_id}: SUCCESS after 0 s"]


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds} s on a run that had ended")


class FakeTime:
    """A clock that only the fake sleep moves; it records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _run(state: str, details: str = "Job run is in progress.", **extra: Any) -> dict[str, Any]:
    when = "2026-12-01T00:00:00Z"
    return {
        "jobRun": {
            "applicationId": APPLICATION,
            "jobRunId": RUN,
            "arn": f"arn:aws:emr-serverless:{REGION}:123456789012:/applications/{APPLICATION}/jobruns/{RUN}",
            "createdBy": "arn:aws:iam::123456789012:user/operator",
            "createdAt": when,
            "updatedAt": when,
            "executionRole": ROLE,
            "state": state,
            "stateDetails": details,
            "releaseLabel": "emr-7.9.0",
            "jobDriver": {"sparkSubmit": {"entryPoint": CODE.entry_point}},
            **extra,
        }
    }


IDS = {"applicationId": APPLICATION, "jobRunId": RUN}


def _wait(
    client: Any, time: FakeTime, *, timeout_seconds: float, progress: Callable[[str], None] = lambda _: None
) -> JobRunResult:
    return wait(
        client,
        APPLICATION,
        RUN,
        progress=progress,
        sleep=time.sleep,
        clock=time.clock,
        timeout_seconds=timeout_seconds,
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("emr-serverless", region_name=REGION)
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_wait_reports_each_new_state_and_backs_off_until_success(stubbed):
    # GIVEN a run that is submitted, scheduled, runs for a while and succeeds
    client, stub = stubbed
    for state in ("SUBMITTED", "SCHEDULED", "RUNNING", "RUNNING", "RUNNING", "RUNNING"):
        stub.add_response("get_job_run", _run(state), IDS)
    billed = {"vCPUHour": 1.5, "memoryGBHour": 6.0, "storageGBHour": 0.25}
    stub.add_response(
        "get_job_run",
        _run("SUCCESS", totalExecutionDurationSeconds=95, billedResourceUtilization=billed),
        IDS,
    )
    time = FakeTime()
    said: list[str] = []
    result = _wait(client, time, timeout_seconds=3600, progress=said.append)
    # THEN one line per state entered, with the time since the wait began
    assert said == [
        f"EMR Serverless job run {RUN}: SUBMITTED after 0 s",
        f"EMR Serverless job run {RUN}: SCHEDULED after 5 s",
        f"EMR Serverless job run {RUN}: RUNNING after 15 s",
        f"EMR Serverless job run {RUN}: SUCCESS after 125 s",
    ]
    # AND the interval doubled up to its ceiling
    assert time.sleeps == [5, 10, 20, 30, 30, 30]
    assert result == JobRunResult(RUN, "SUCCESS", 95, 1.5, 6.0, 0.25)


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_run_that_fails_raises_with_emr_serverless_details(stubbed, state):
    # GIVEN a run that ends FAILED (or CANCELLED, by someone else) with EMR Serverless's details
    client, stub = stubbed
    details = "Job failed, please check complete logs in configured logging destination. ExitCode: 1."
    stub.add_response("get_job_run", _run("RUNNING"), IDS)
    stub.add_response("get_job_run", _run(state, details), IDS)
    time = FakeTime()
    # THEN the wait raises with those details and where the driver's log is
    with pytest.raises(
        JobRunFailed,
        match=rf"{RUN} of application {APPLICATION} ended {state}: Job failed.*ExitCode: 1.*SPARK_DRIVER",
    ):
        _wait(client, time, timeout_seconds=60)


def test_a_run_past_the_timeout_is_cancelled_and_reported(stubbed):
    # GIVEN a run still RUNNING when the CLI's 12 s are up
    client, stub = stubbed
    for _ in range(3):
        stub.add_response("get_job_run", _run("RUNNING"), IDS)
    # THEN the wait cancels it (the stub expects the request) and says so
    stub.add_response("cancel_job_run", IDS, IDS)
    time = FakeTime()
    with pytest.raises(JobRunTimedOut, match=r"was still RUNNING after 12 s; it was cancelled"):
        _wait(client, time, timeout_seconds=12)
    # AND the last sleep was cut to the timeout
    assert time.sleeps == [5, 7]


def test_a_failed_cancel_tells_the_operator_how_to_cancel(stubbed):
    client, stub = stubbed
    stub.add_response("get_job_run", _run("RUNNING"), IDS)
    stub.add_client_error("cancel_job_run", service_error_code="AccessDeniedException", http_status_code=403)
    time = FakeTime()
    with pytest.raises(
        JobRunTimedOut,
        match=r"cancelling it failed \(AccessDeniedException\): cancel it with `aws emr-serverless "
        r"cancel-job-run --application-id",
    ):
        _wait(client, time, timeout_seconds=0)


def test_an_interrupt_cancels_the_run_and_is_raised_again(stubbed):
    # GIVEN a running run, and the operator pressing Ctrl-C while the CLI waits
    client, stub = stubbed
    stub.add_response("get_job_run", _run("RUNNING"), IDS)
    stub.add_response("cancel_job_run", IDS, IDS)
    said: list[str] = []

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    # THEN the run is cancelled, and the interrupt goes on up
    with pytest.raises(KeyboardInterrupt, match=r"^$"):
        wait(
            client,
            APPLICATION,
            RUN,
            progress=said.append,
            sleep=interrupted,
            clock=lambda: 0.0,
            timeout_seconds=60,
        )
    assert said[-1] == f"interrupted: EMR Serverless job run {RUN}: it was cancelled"
