"""``check --from-exports`` end to end, on the seeded pair both checks share (tests/support/exports.py).

The pair is written as two AWS-shaped exports and loaded into the two moto tables; the CLI runs
in process with the local engine (on the test run's Spark session) and confirms the export's
candidates with consistent reads of the moto tables. The scan check then runs on the same tables:
both must report exactly the seeded differences.
"""

from __future__ import annotations

import time
from copy import deepcopy
from pathlib import Path

import boto3
import pytest

from ddbstream.attributes import item_from_event
from jobs import export_compare
from replicator.core.compare import Kind
from tests.support.cli import FAST, run_cli
from tests.support.exports import (
    EXCLUDED,
    IGNORED,
    SENTINEL,
    TTL_ATTRIBUTE,
    SeededPair,
    load_into_tables,
    seeded_pair,
    write_pair,
)

pytestmark = pytest.mark.xdist_group("spark")

RULES = [
    "--ttl-attribute", TTL_ATTRIBUTE,
    *(arg for name in sorted(EXCLUDED) for arg in ("--exclude-attribute", name)),
    *(arg for name in sorted(IGNORED) for arg in ("--ignore-attribute", name)),
]  # fmt: skip


def _reported(document) -> set[tuple[str, str]]:
    return {(d["kind"], d["key"]["user_id"]["S"]) for d in document["differences"]}


def _in_flight(pair: SeededPair, user: str) -> tuple[SeededPair, SeededPair]:
    """The pair as exported while ``user``'s item changed: the source's export holds it before the
    change, the replica's export (later) after it; both live tables hold it after."""
    changed = deepcopy(pair)
    for items in (changed.source, changed.replica):
        for item in items:
            if item["user_id"]["S"] == user:
                item["plan"] = {"S": "changed-after-T"}
    exported = deepcopy(changed)
    exported.source[:] = pair.source
    return changed, exported


@pytest.fixture
def checked(spark, regions, tmp_path):
    """The export check run on the pair (one key in flight), and what it needs to run again."""
    pair = seeded_pair()
    live, exported = _in_flight(pair, "user-000003")
    written = write_pair(tmp_path / "exports", exported)
    load_into_tables(live, regions.source, "Users", regions.replica, "Users")
    report = tmp_path / "export-check.json"
    run = run_cli(
        "check",
        "--from-exports",
        "--source-export", str(written.source),
        "--replica-export", str(written.replica),
        "--json", str(report),
        *RULES,
        *FAST,
        clock=lambda: pair.now,
    )  # fmt: skip
    return pair, written, run, report


def test_the_export_check_reports_exactly_the_seeded_differences_and_settles_the_key_in_flight(checked):
    pair, _, run, report = checked
    # THEN it exits 1 and reports the seeded differences, each kind, nothing else
    assert run.code == 1, run.output
    assert _reported(run.document) == pair.truth
    # AND the key that changed between the two exports' times was a candidate, settled by re-reading
    document = run.document
    assert document["candidates"] == len(pair.truth) + 1 and document["settledOnReread"] == 1
    # AND the report says what the exports held and cost, and never an item's contents
    exports = document["exports"]
    assert exports["engine"] == "local" and exports["marginSeconds"] == 60
    assert exports["source"]["items"] == len(pair.source) and exports["replica"]["items"] == len(pair.replica)
    billed = exports["source"]["billedSizeBytes"] + exports["replica"]["billedSizeBytes"]
    assert exports["exportCostUsd"] == round(billed / 1024**3 * 0.10, 4)
    assert exports["source"]["bytesRead"] > 0 and exports["replica"]["bytesRead"] > 0
    assert "export cost $" in run.stdout and "Spark (local)" in run.stdout
    assert SENTINEL not in run.output and SENTINEL not in Path(report).read_text()


def test_the_scan_check_agrees_with_the_export_check_on_the_same_pair(checked, tmp_path):
    pair, _, export_run, _ = checked
    # WHEN the scan check runs on the same live tables
    scan = run_cli("check", "--json", str(tmp_path / "scan.json"), *RULES, *FAST, clock=lambda: pair.now)
    # THEN both report the same keys, of the same kinds: the seeded truth
    assert scan.code == 1, scan.output
    assert _reported(scan.document) == _reported(export_run.document) == pair.truth


def test_repair_takes_the_export_checks_report_and_the_replica_then_matches(checked, regions, tmp_path):
    pair, _, _, report = checked
    # WHEN repair is given the export check's report (no scan)
    repaired = run_cli(
        "repair", "--from-report", str(report), "--json", str(tmp_path / "repair.json"), *RULES, *FAST,
        clock=lambda: pair.now,
    )  # fmt: skip
    # THEN every key is repaired but the unreplicable one, which the replicator refuses
    statuses = {(r["kind"], r["key"]["user_id"]["S"]): r["status"] for r in repaired_document(repaired)}
    assert set(statuses) == pair.truth
    assert {k for k, status in statuses.items() if status != "repaired"} == {
        (Kind.UNREPLICABLE.value, "unreplicable-0")
    }
    # AND a scan check finds only that key now
    after = run_cli("check", "--json", str(tmp_path / "after.json"), *RULES, *FAST, clock=lambda: pair.now)
    assert _reported(after.document) == {(Kind.UNREPLICABLE.value, "unreplicable-0")}
    # AND the repaired missing item is the source's
    missing = pair.key("missing-0")
    keys = item_from_event(missing, "key")
    assert "Item" in regions.replica.get_item(TableName="Users", Key=keys, ConsistentRead=True)


def repaired_document(run):
    assert run.code == 1, run.output  # the unreplicable key cannot be repaired
    return run.document["repairs"]


def test_an_export_folder_without_a_manifest_is_a_clear_error(spark, regions, tmp_path):
    (tmp_path / "empty").mkdir()
    run = run_cli(
        "check", "--from-exports", "--source-export", str(tmp_path / "empty"),
        "--replica-export", str(tmp_path / "empty"), *FAST,
    )  # fmt: skip
    assert run.code == 2 and "holds no manifest-summary.json" in run.stderr, run.output


def _upload(s3, bucket: str, folder: Path, prefix: str) -> str:
    for path in folder.rglob("*"):
        if path.is_file():
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{path.relative_to(folder)}", Body=path.read_bytes())
    return f"s3://{bucket}/{prefix}"


def test_exports_in_s3_are_copied_for_the_local_engine_and_give_the_same_report(spark, regions, tmp_path):
    # GIVEN the pair's exports in S3, where DynamoDB writes them (their folders named by s3:// URI)
    pair = seeded_pair()
    written = write_pair(tmp_path / "exports", pair)
    load_into_tables(pair, regions.source, "Users", regions.replica, "Users")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="exports-bucket")
    source = _upload(
        s3, "exports-bucket", written.source, "exports/source/AWSDynamoDB/01800000000000-5a1e0001"
    )
    replica = _upload(s3, "exports-bucket", written.replica.parent.parent, "exports/replica")
    # WHEN the check names them (the replica's by its prefix, which holds one export)
    run = run_cli(
        "check", "--from-exports", "--source-export", source, "--replica-export", replica,
        "--work-dir", str(tmp_path / "work"), "--json", str(tmp_path / "report.json"), *RULES, *FAST,
        clock=lambda: pair.now,
    )  # fmt: skip
    # THEN it copied them into --work-dir, compared them, and found the seeded differences
    assert run.code == 1, run.output
    assert _reported(run.document) == pair.truth
    assert run.document["exports"]["replica"]["location"] == f"{replica}/AWSDynamoDB/01800000060000-5a1e0002"
    assert "copied" in run.stderr and (tmp_path / "work" / "source" / "manifest-files.json").is_file()


def test_the_emr_serverless_engine_ships_the_job_runs_it_and_reads_its_results_from_s3(
    spark, regions, tmp_path
):
    # GIVEN the pair's exports in the stack's bucket, under exports/, and an EMR Serverless application
    pair = seeded_pair()
    written = write_pair(tmp_path / "exports", pair)
    load_into_tables(pair, regions.source, "Users", regions.replica, "Users")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="exports-bucket")
    source = _upload(s3, "exports-bucket", written.source, "exports/s/AWSDynamoDB/01800000000000-5a1e0001")
    replica = _upload(s3, "exports-bucket", written.replica, "exports/r/AWSDynamoDB/01800000060000-5a1e0002")
    emr = boto3.client("emr-serverless", region_name="us-east-1")
    application = emr.create_application(
        name="export-check", releaseLabel="emr-7.9.0", type="SPARK", clientToken="check"
    )
    # AND the job's results where the run will write them: moto's job runs start in SUCCESS and run
    # nothing, so the test runs the same job on the same exports (local copies) in EMR's place
    run_name = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(pair.now))
    output = f"s3://exports-bucket/results/check/{run_name}"
    local = tmp_path / "emr-output"
    export_compare.run(spark, pair.job_args(str(written.source), str(written.replica), str(local)))
    _upload(s3, "exports-bucket", local, f"results/check/{run_name}")
    # WHEN the check runs on EMR Serverless
    run = run_cli(
        "check", "--from-exports", "--source-export", source, "--replica-export", replica,
        "--engine", "emr-serverless", "--emr-application-id", application["applicationId"],
        "--emr-job-role-arn", "arn:aws:iam::123456789012:role/export-check-job",
        "--emr-output", "s3://exports-bucket/results/check", "--json", str(tmp_path / "report.json"),
        *RULES, *FAST, clock=lambda: pair.now,
    )  # fmt: skip
    # THEN it reports the seeded differences, read back from S3 and confirmed on the live tables
    assert run.code == 1, run.output
    assert _reported(run.document) == pair.truth and run.document["exports"]["engine"] == "emr-serverless"
    # AND the run it started is the job file with the job's own command line, its code under code/
    (listed,) = emr.list_job_runs(applicationId=application["applicationId"])["jobRuns"]
    driver = emr.get_job_run(applicationId=application["applicationId"], jobRunId=listed["id"])["jobRun"]
    submit = driver["jobDriver"]["sparkSubmit"]
    expected = pair.job_args(source, replica, output)
    assert submit["entryPointArguments"] == expected.argv()
    assert submit["entryPoint"].startswith("s3://exports-bucket/code/")
    assert submit["entryPoint"].endswith("/export_compare.py")
    assert "started EMR Serverless job run" in run.stderr
