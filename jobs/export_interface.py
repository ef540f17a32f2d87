"""What the export comparison (:mod:`jobs.export_compare`) takes and gives: its command line
(:class:`JobArgs`) and its summary (:class:`JobSummary`).

Apart from the job so that pyspark is not needed to use them: the CLI builds the job's arguments
to submit it to EMR Serverless, and reads the summary it wrote to S3, on a machine without pyspark.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from replicator.core.compare import Kind, Rules

MATCHED, EXPIRED = "matched", "expired"
VERDICTS = (MATCHED, EXPIRED, *(kind.value for kind in Kind))
"""What the job says of each key: a :class:`Kind` of difference, or matched, or expired."""


@dataclass(frozen=True, slots=True)
class JobArgs:
    source: str  # the source export's root
    replica: str  # the replica export's root
    output: str  # where differences/ and summary/ go (replaced if there)
    key_names: tuple[str, ...]
    now: float  # epoch seconds: an item whose TTL is before this is expired
    excluded: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset()
    ttl_attribute: str | None = None

    @classmethod
    def of(cls, source: str, replica: str, output: str, rules: Rules, now: float) -> JobArgs:
        """The job told to compare by ``rules`` (the inverse of :attr:`rules`)."""
        return cls(
            source, replica, output, rules.key_names, now, rules.excluded, rules.ignored, rules.ttl_attribute
        )

    @property
    def rules(self) -> Rules:
        return Rules(self.key_names, self.excluded, self.ignored, self.ttl_attribute)

    def argv(self) -> list[str]:
        """The command line meaning these arguments (for spark-submit's entry point arguments)."""
        line = ["--source", self.source, "--replica", self.replica, "--output", self.output]
        line += ["--key-names", ",".join(self.key_names), "--now", repr(self.now)]
        for option, names in (("--exclude", self.excluded), ("--ignore", self.ignored)):
            if names:
                line += [option, ",".join(sorted(names))]
        if self.ttl_attribute:
            line += ["--ttl-attribute", self.ttl_attribute]
        return line


@dataclass(frozen=True, slots=True)
class JobSummary:
    """What ``DIR/summary/`` holds: counts only, never a key or a value."""

    source_items: int
    replica_items: int
    matched: int
    expired: int
    differences: dict[str, int]  # by Kind value, every kind present
    source_bytes: int  # the uncompressed JSON lines read, newlines included
    replica_bytes: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> JobSummary:
        """The summary line the job wrote (KeyError or ValueError when it is not one)."""
        document = json.loads(text)
        counts = {name: int(document[name]) for name in _COUNTS}
        return cls(
            differences={kind.value: int(document["differences"][kind.value]) for kind in Kind}, **counts
        )


_COUNTS = ("source_items", "replica_items", "matched", "expired", "source_bytes", "replica_bytes")


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"must be attribute names separated by commas; got {text!r}")
    return names


def parse_args(argv: Sequence[str] | None = None) -> JobArgs:
    parser = argparse.ArgumentParser(
        prog="export_compare",
        description=(
            "Compare a DynamoDB table's export with its replica's, as `python -m replicator check` compares "
            "the live tables: the replicator's metadata, excluded and ignored attributes and TTL-expired "
            "items are treated alike, set order and number spelling do not count. Writes "
            "OUTPUT/differences/ (JSON lines: kind and key, nothing else of an item) and "
            "OUTPUT/summary/ (one JSON line of counts)."
        ),
        epilog=(
            "ROOT is an export's <prefix>/AWSDynamoDB/<ExportId>/ folder (local or s3://), holding "
            "manifest-summary.json, manifest-files.json and data/. Runs with spark-submit, or with "
            "plain python on a local Spark."
        ),
    )
    parser.add_argument("--source", required=True, metavar="ROOT", help="the source table's export")
    parser.add_argument("--replica", required=True, metavar="ROOT", help="the replica table's export")
    parser.add_argument("--output", required=True, metavar="DIR", help="where the results go (replaced)")
    parser.add_argument(
        "--key-names", required=True, type=_names, metavar="A[,B]", help="the partition key [and sort key]"
    )
    parser.add_argument(
        "--exclude", type=_names, default=(), metavar="X,Y", help="attributes the replicator does not copy"
    )
    parser.add_argument(
        "--ignore", type=_names, default=(), metavar="Z", help="attributes the comparison leaves out"
    )
    parser.add_argument("--ttl-attribute", metavar="NAME", help="the tables' TTL attribute, if any")
    parser.add_argument(
        "--now",
        required=True,
        type=float,
        metavar="EPOCH",
        help="epoch seconds an item's TTL is compared with (e.g. the source export's time)",
    )
    args = parser.parse_args(argv)
    return JobArgs(
        source=args.source,
        replica=args.replica,
        output=args.output,
        key_names=args.key_names,
        now=args.now,
        excluded=frozenset(args.exclude),
        ignored=frozenset(args.ignore),
        ttl_attribute=args.ttl_attribute,
    )
