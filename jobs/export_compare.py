"""The export check's comparison: two DynamoDB exports, joined on the key, on Spark.

    python -m jobs.export_compare --source ROOT --replica ROOT --output DIR --key-names user_id,timestamp \\
        [--exclude a,b] [--ignore c] [--ttl-attribute expires_at] --now EPOCH

A ROOT is an export's ``<prefix>/AWSDynamoDB/<ExportId>/``, a local directory or an ``s3://`` URI;
the same file runs under ``spark-submit`` on EMR Serverless. It writes ``DIR/differences/`` (JSON
lines: a difference's kind and its key, nothing else of the item) and, last, ``DIR/summary/`` (one
JSON line of counts, :class:`~jobs.export_interface.JobSummary`).

1. The driver reads each export's two manifests through Spark (so local paths and s3:// alike):
   they list the data files, one line per table partition.
2. Executors parse every data line and summarise it with :func:`replicator.core.compare.summarise`,
   the scan check's rule: the key's identity (``ddbstream.key_id``), a 16-byte digest of what is
   compared, and whether its TTL has passed.
3. Source and replica summaries are full-outer-joined on the key and each key classified as the scan
   check's :class:`replicator.cli.diff.Matcher` classifies a pair (see :func:`classified`).

No item ever reaches the driver, only the manifests and one row of counts, so the driver's memory
does not grow with the table. The job's arguments and summary live in :mod:`jobs.export_interface`,
which needs no pyspark.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ddbstream import key_id
from ddbstream.attributes import item_from_event
from jobs.export_interface import EXPIRED, MATCHED, VERDICTS, JobArgs, JobSummary, parse_args
from replicator.core.compare import Kind, Origin, Rules, summarise
from replicator.exports.errors import ExportFormatError
from replicator.exports.layout import (
    FILES_NAME,
    SUMMARY_NAME,
    DataFile,
    data_path,
    item_of_line,
    join,
    parse_manifest_files,
    parse_summary,
)

__all__ = ["JobArgs", "JobSummary", "main", "parse_args", "run"]


# (key id, digest or None, expired, bytes): what an executor keeps of one exported item.
Summarised = tuple[str, bytes | None, bool, int]


def summarise_lines(
    origin: Origin, rules: Rules, now: float
) -> Callable[[Iterable[Any]], Iterator[Summarised]]:
    """What an executor does with a partition of data lines (rows of ``spark.read.text``)."""

    def summarise_partition(rows: Iterable[Any]) -> Iterator[Summarised]:
        for row in rows:
            line: str = row.value
            if not line.strip():
                continue
            try:
                item = item_from_event(item_of_line(line), "Item")
            except ValueError as exc:  # ExportFormatError, or MalformedRecord: neither quotes a value
                raise ExportFormatError(f"the {origin.value} export: {exc}") from None
            absent = [name for name in rules.key_names if name not in item]
            if absent:
                raise ExportFormatError(
                    f"the {origin.value} export: an item has no key attribute {absent[0]!r} (see --key-names)"
                )
            summary = summarise(origin, item, rules, now)
            yield key_id(summary.keys), summary.digest, summary.expired, len(line.encode("utf-8")) + 1

    return summarise_partition


def _read_text(spark: SparkSession, path: str) -> str:
    try:
        rows = spark.read.text(path, wholetext=True).collect()
    except AnalysisException as exc:
        raise ExportFormatError(f"{path}: cannot be read ({exc.getErrorClass() or 'missing'})") from None
    if not rows:
        raise ExportFormatError(f"{path}: not found")
    return str(rows[0].value)


def data_files(spark: SparkSession, root: str, origin: Origin) -> list[DataFile]:
    """The data files of the export at ``root``, after checking it is one the check can compare."""
    try:
        parse_summary(_read_text(spark, join(root, SUMMARY_NAME))).require_comparable()
        return parse_manifest_files(_read_text(spark, join(root, FILES_NAME)))
    except ExportFormatError as exc:
        raise ExportFormatError(f"the {origin.value} export at {root}: {exc}") from None


def summaries(
    spark: SparkSession, root: str, files: list[DataFile], origin: Origin, args: JobArgs
) -> DataFrame:
    """One row per exported item: key_id, and digest, expired and bytes prefixed by side (s_ or r_)."""
    side = "s" if origin is Origin.SOURCE else "r"
    schema = f"key_id string, {side}_digest binary, {side}_expired boolean, {side}_bytes long"
    # gzip is not splittable: one task per data file, and DynamoDB writes one or more per partition.
    lines = spark.read.text([data_path(root, f.data_file_key) for f in files])
    # The rows are ours, typed by summarise_lines: checking each against the schema in Python again
    # (verifySchema) cost a quarter of the job's time.
    return spark.createDataFrame(
        lines.rdd.mapPartitions(summarise_lines(origin, args.rules, args.now)), schema, verifySchema=False
    )


def classified(source: DataFrame, replica: DataFrame) -> DataFrame:
    """Each key's verdict, in Matcher's order: expired on either side is no difference; then a key
    the source lacks is extra; a source item the replicator cannot copy is unreplicable; a key the
    replica lacks is missing; digests that differ are different; the rest matched."""
    joined = source.join(replica, on="key_id", how="full_outer")
    in_source, in_replica = F.col("s_bytes").isNotNull(), F.col("r_bytes").isNotNull()
    expired = F.coalesce(F.col("s_expired"), F.lit(False)) | F.coalesce(F.col("r_expired"), F.lit(False))
    verdict = (
        F.when(expired, EXPIRED)
        .when(~in_source, Kind.EXTRA.value)
        .when(F.col("s_digest").isNull(), Kind.UNREPLICABLE.value)
        .when(~in_replica, Kind.MISSING.value)
        .when(F.col("s_digest") != F.col("r_digest"), Kind.DIFFERENT.value)
        .otherwise(MATCHED)
    )
    return joined.select(verdict.alias("verdict"), "key_id", "s_bytes", "r_bytes")


def tally(verdicts: DataFrame) -> JobSummary:
    """The counts, aggregated on the executors: one row reaches the driver."""
    by_verdict = [F.count(F.when(F.col("verdict") == name, True)).alias(name) for name in VERDICTS]
    row = verdicts.agg(
        F.count("s_bytes").alias("source_items"),
        F.count("r_bytes").alias("replica_items"),
        F.coalesce(F.sum("s_bytes"), F.lit(0)).alias("source_bytes"),
        F.coalesce(F.sum("r_bytes"), F.lit(0)).alias("replica_bytes"),
        *by_verdict,
    ).first()
    assert row is not None  # an aggregate without grouping always has one row
    return JobSummary(
        source_items=row["source_items"],
        replica_items=row["replica_items"],
        matched=row[MATCHED],
        expired=row[EXPIRED],
        differences={kind.value: row[kind.value] for kind in Kind},
        source_bytes=row["source_bytes"],
        replica_bytes=row["replica_bytes"],
    )


def _check_complete(origin: Origin, files: list[DataFile], read: int) -> None:
    listed = sum(f.item_count for f in files)
    if read != listed:
        raise ExportFormatError(
            f"the {origin.value} export's manifest lists {listed} items but its data files hold {read}: "
            "the copy is incomplete, or not of this export"
        )


_RAISED = f"{ExportFormatError.__module__}.{ExportFormatError.__qualname__}: "


def raised_on_executor(failure: Exception) -> ExportFormatError | None:
    """The ExportFormatError an executor raised, if that is what failed the Spark job: Spark hands a
    Python worker's failure to the driver only as text (the worker's traceback in a Java error), and
    the rest of that text is not for an operator. Our messages are one line and quote no item."""
    for line in str(failure).splitlines():
        if line.strip().startswith(_RAISED):
            return ExportFormatError(line.strip().removeprefix(_RAISED))
    return None


def run(spark: SparkSession, args: JobArgs) -> JobSummary:
    """Compare the two exports and write ``differences/`` then ``summary/`` under ``args.output``."""
    source_files = data_files(spark, args.source, Origin.SOURCE)
    replica_files = data_files(spark, args.replica, Origin.REPLICA)
    source = summaries(spark, args.source, source_files, Origin.SOURCE, args)
    replica = summaries(spark, args.replica, replica_files, Origin.REPLICA, args)
    # Kept after the tally so that writing the differences does not parse both exports again.
    verdicts = classified(source, replica).persist()
    try:
        try:
            result = tally(verdicts)
        except Exception as failure:
            found = raised_on_executor(failure)
            if found is None:
                raise
            raise found from None
        _check_complete(Origin.SOURCE, source_files, result.source_items)
        _check_complete(Origin.REPLICA, replica_files, result.replica_items)
        # key_id is already the key as canonical DynamoDB JSON (B as base64): the line is built in
        # the JVM, no Python round trip per difference.
        line = F.concat(F.lit('{"kind":"'), F.col("verdict"), F.lit('","keys":'), F.col("key_id"), F.lit("}"))
        differences = verdicts.where(F.col("verdict").isin([kind.value for kind in Kind]))
        differences.select(line.alias("value")).write.mode("overwrite").text(join(args.output, "differences"))
    finally:
        verdicts.unpersist()
    # Written last, once the differences are all written.
    summary = spark.createDataFrame([(result.to_json(),)], "value string").coalesce(1)
    summary.write.mode("overwrite").text(join(args.output, "summary"))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """spark-submit's entry: compare, print the summary line; 2 when an export is malformed."""
    args = parse_args(argv)
    active = SparkSession.getActiveSession()  # in process (tests, the CLI): theirs, left running
    spark = active or SparkSession.builder.appName("export-compare").getOrCreate()
    try:
        summary = run(spark, args)
    except ExportFormatError as exc:
        sys.stderr.write(f"export_compare: error: {exc}\n")
        return 2
    finally:
        if active is None:
            spark.stop()
    sys.stdout.write(summary.to_json() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
