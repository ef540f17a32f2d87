"""The export comparison job on a local Spark: exactly the seeded differences, the right counts,
keys only in its output, and clear errors for exports it cannot read.

One run of the job is shared by most tests (a Spark run costs seconds, an assertion nothing). It is
session-scoped, not module-scoped: xdist may hand this module's tests to a worker among others',
and a module fixture would then be set up again.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from jobs.export_compare import main, run
from jobs.export_interface import JobArgs, JobSummary
from replicator.core.compare import Kind
from replicator.exports.errors import ExportFormatError
from replicator.exports.layout import FILES_NAME, SUMMARY_NAME, parse_manifest_files, relative_path
from tests.support.exports import (
    KEY_NAMES,
    SENTINEL,
    TTL_ATTRIBUTE,
    SeededPair,
    WrittenPair,
    seeded_pair,
    write_pair,
)
from tests.support.spark import local_session

pytestmark = pytest.mark.xdist_group("spark")


@dataclass(frozen=True)
class Compared:
    pair: SeededPair
    exports: WrittenPair
    output: Path
    summary: JobSummary


def job_args(pair: SeededPair, exports: WrittenPair, output: Path) -> JobArgs:
    return pair.job_args(str(exports.source), str(exports.replica), str(output))


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[SeededPair, WrittenPair]:
    pair = seeded_pair()
    return pair, write_pair(tmp_path_factory.mktemp("exports"), pair)


@pytest.fixture(scope="session")
def compared(exports, tmp_path_factory) -> Compared:
    """The job run once, told of the excluded, ignored and TTL attributes as the scan check would be."""
    pair, written = exports
    output = tmp_path_factory.mktemp("compared")
    summary = run(local_session(), job_args(pair, written, output))
    return Compared(pair, written, output, summary)


def part_lines(folder: Path) -> list[str]:
    return [line for part in sorted(folder.glob("part-*")) for line in part.read_text().splitlines()]


def found(output: Path) -> set[tuple[str, str]]:
    return {
        (document["kind"], document["keys"]["user_id"]["S"])
        for document in map(json.loads, part_lines(output / "differences"))
    }


def test_the_job_finds_exactly_the_seeded_differences(compared):
    # GIVEN a source export and its replica's with keys missing, extra, different and unreplicable
    # WHEN the job compares them (the module's run)
    # THEN it reports exactly those keys, each under its kind
    assert found(compared.output) == compared.pair.truth
    assert {kind for kind, _ in compared.pair.truth} == {kind.value for kind in Kind}


def test_reordered_maps_and_sets_respelled_numbers_binary_and_expired_items_are_no_difference(compared):
    # GIVEN ordinary items that the replica's export writes differently but equal, and expired ones
    pair = compared.pair
    source = {item["user_id"]["S"]: item for item in pair.source}
    replica = {item["user_id"]["S"]: item for item in pair.replica}
    ordinary = [user for user in source if user.startswith("user-")]
    assert all(json.dumps(source[u]["profile"]) != json.dumps(replica[u]["profile"]) for u in ordinary)
    assert {replica[u]["visits"]["N"] for u in ordinary} >= {"1E2", "-7.0", "42.00"}
    assert all(replica[u]["tags"]["SS"] == source[u]["tags"]["SS"][::-1] for u in ordinary)
    assert all(replica[u]["keys"]["BS"] == source[u]["keys"]["BS"][::-1] for u in ordinary)
    equal_by_design = {*ordinary, "expired-source", "expired-replica", "expired-pair", "legacy-0"}
    equal_by_design |= pair.excluded_users | pair.ignored_users
    # THEN none of them is reported
    assert {user for _, user in found(compared.output)} & equal_by_design == set()


def test_the_summary_counts_items_matches_expired_keys_and_bytes(compared):
    pair, summary, written = compared.pair, compared.summary, compared.exports
    assert summary.source_items == len(pair.source) == written.source_summary.item_count
    assert summary.replica_items == len(pair.replica) == written.replica_summary.item_count
    assert summary.matched == pair.matched
    assert summary.expired == pair.expired == 3
    assert (
        summary.differences
        == {kind.value: len(pair.users(kind)) for kind in Kind}
        == {"missing": 3, "extra": 2, "different": 4, "unreplicable": 1}
    )
    # bytes: the uncompressed JSON lines read, which the writer also reports as the billed size
    assert summary.source_bytes == written.source_summary.billed_size_bytes > 0
    assert summary.replica_bytes == written.replica_summary.billed_size_bytes > 0


def test_the_output_holds_keys_only_and_the_summary_line(compared):
    lines = part_lines(compared.output / "differences")
    documents = [json.loads(line) for line in lines]
    assert len(documents) == len(compared.pair.truth)
    assert all(set(d) == {"kind", "keys"} and set(d["keys"]) == set(KEY_NAMES) for d in documents)
    (summary_line,) = part_lines(compared.output / "summary")
    assert JobSummary.from_json(summary_line) == compared.summary
    # no item's contents anywhere in what the job wrote
    everything = "".join(path.read_text() for path in compared.output.rglob("part-*"))
    assert SENTINEL not in everything and "enterprise" not in everything


def test_main_end_to_end_without_excluded_or_ignored_attributes_reports_them(
    spark, exports, tmp_path, capsys
):
    # GIVEN the same pair, compared by the command line that spark-submit runs, told of no excluded
    # or ignored attribute
    pair, written = exports
    argv = [
        *("--source", str(written.source), "--replica", str(written.replica), "--output", str(tmp_path)),
        *("--key-names", ",".join(KEY_NAMES), "--ttl-attribute", TTL_ATTRIBUTE, "--now", str(pair.now)),
    ]
    # WHEN it runs
    code = main(argv)
    # THEN it succeeds, writes both outputs, and the excluded and ignored attributes now differ
    assert code == 0
    assert found(tmp_path) == pair.truth_without_rules
    (summary_line,) = part_lines(tmp_path / "summary")
    assert capsys.readouterr().out.strip() == summary_line
    assert JobSummary.from_json(summary_line).differences["different"] == 4 + 4


def broken_copy(written: WrittenPair, tmp_path: Path) -> Path:
    """A copy of the replica's export to break: the original is shared by the module."""
    root = tmp_path / "AWSDynamoDB" / written.replica.name
    shutil.copytree(written.replica, root)
    return root


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        pytest.param(
            lambda root: (root / FILES_NAME).write_text((root / FILES_NAME).read_text() + "{oops\n"),
            r"the replica export at .*: manifest-files.json line 5: not JSON",
            id="bad-manifest-line",
        ),
        pytest.param(
            lambda root: (root / FILES_NAME).unlink(),
            r"the replica export at .*manifest-files.json: cannot be read",
            id="no-files-manifest",
        ),
        pytest.param(
            lambda root: (root / SUMMARY_NAME).write_text(
                (root / SUMMARY_NAME).read_text().replace("DYNAMODB_JSON", "ION")
            ),
            r"outputFormat is 'ION'; the check reads DYNAMODB_JSON exports",
            id="ion-export",
        ),
    ],
)
def test_a_bad_manifest_fails_with_a_clear_error_before_reading_data(
    spark, exports, tmp_path, damage, message
):
    pair, written = exports
    root = broken_copy(written, tmp_path)
    damage(root)
    with pytest.raises(ExportFormatError, match=message):
        run(spark, job_args(pair, replace(written, replica=root), tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_main_says_what_is_wrong_and_exits_2(spark, exports, tmp_path, capsys):
    _, written = exports
    argv = [
        *("--source", str(tmp_path / "nowhere"), "--replica", str(written.replica)),
        *("--output", str(tmp_path / "out"), "--key-names", "user_id,timestamp", "--now", "0"),
    ]
    assert main(argv) == 2
    assert "export_compare: error: the source export at" in capsys.readouterr().err


def test_a_bad_data_line_fails_the_job_without_quoting_the_item(spark, exports, tmp_path):
    # GIVEN a replica export whose first data file gained a line cut short after an item's contents
    pair, written = exports
    root = broken_copy(written, tmp_path)
    first = next(f for f in parse_manifest_files((root / FILES_NAME).read_text()) if f.item_count)
    path = root / relative_path(first.data_file_key)
    path.write_bytes(
        gzip.compress(
            gzip.decompress(path.read_bytes()) + b'{"Item":{"name":{"S":"' + SENTINEL.encode() + b"\n"
        )
    )
    # WHEN the job runs, THEN it fails, naming the side and the problem, and never the contents
    with pytest.raises(ExportFormatError, match=r"^the replica export: a data line: not JSON \(") as failure:
        run(spark, job_args(pair, replace(written, replica=root), tmp_path / "out"))
    assert SENTINEL not in str(failure.value)


def test_data_files_that_hold_fewer_items_than_the_manifest_lists_fail_the_job(spark, exports, tmp_path):
    # GIVEN a copy of the replica's export that lost one data file's items (its file emptied)
    pair, written = exports
    root = broken_copy(written, tmp_path)
    first = next(f for f in parse_manifest_files((root / FILES_NAME).read_text()) if f.item_count)
    (root / relative_path(first.data_file_key)).write_bytes(b"")
    # WHEN the job runs, THEN it refuses to report on an incomplete copy, and writes nothing
    listed = written.replica_summary.item_count
    with pytest.raises(
        ExportFormatError, match=f"lists {listed} items but its data files hold {listed - first.item_count}"
    ):
        run(spark, job_args(pair, replace(written, replica=root), tmp_path / "out"))
    assert not (tmp_path / "out").exists()
