"""Seeded export pairs: a Users table's export and its replica's, in AWS's layout, with known differences.

One truth for both checks: the export check's tests write the pair with the project's writer
(:func:`write_pair`), the scan check's load the same items into two DynamoDB tables
(:func:`load_into_tables`), and both assert :attr:`SeededPair.truth`.

What the pair holds, beside ordinary items that match:

- real differences: keys missing in the replica, extra in the replica, different (a changed
  attribute, a set member, a nested value, a binary value), and one source item the replicator cannot
  copy (it holds the reserved ``repl:version``);
- no differences: maps and sets in other orders, numbers written differently but equal ("1.50" and
  "1.5", "100" and "1E2"), binary values, the replicator's ``repl:version`` on every replica item,
  items whose TTL has passed (on one side only, or on both with different contents), a legacy
  ``aws:rep:*`` attribute, an excluded attribute the replica lacks and an ignored one that differs
  (differences only when the comparison is not told about them: :attr:`SeededPair.truth_without_rules`).

Items are in the raw DynamoDB JSON form an export holds (B as base64 text); every item's ``name``
holds :data:`SENTINEL`, which must never appear in any output.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddbstream.attributes import item_from_event
from jobs.export_interface import JobArgs
from replicator.core import schema, version
from replicator.core.compare import Kind, Rules
from replicator.exports.layout import EXPORT_FOLDER, ExportSummary
from replicator.exports.writer import write_export

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SOURCE_TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Users"
REPLICA_TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Users"
KEY_NAMES = ("user_id", "timestamp")
TTL_ATTRIBUTE = "expires_at"
EXCLUDED = frozenset({"secret"})
IGNORED = frozenset({"last_seen"})
SENTINEL = "SENTINEL-e8a1"
NOW = 1_800_000_000.0  # the pair's "now": TTLs before it have passed

# Equal numbers, written as the source and as the replica has them.
RESPELLED = {
    "1.50": "1.5",
    "100": "1E2",
    "3.0": "3",
    "42": "42.00",
    "0.10": "1E-1",
    "-7": "-7.0",
    "12.0": "12",
}
assert all(Decimal(a) == Decimal(b) and a != b for a, b in RESPELLED.items())

Raw = dict[str, Any]


@dataclass(frozen=True)
class SeededPair:
    source: list[Raw]
    replica: list[Raw]
    truth: frozenset[tuple[str, str]]  # (kind, user_id) of every real difference
    excluded_users: frozenset[str]  # differ only in an excluded attribute
    ignored_users: frozenset[str]  # differ only in an ignored attribute
    expired: int  # keys not compared because a TTL has passed
    now: float = NOW

    @property
    def rules(self) -> Rules:
        return Rules(KEY_NAMES, EXCLUDED, IGNORED, TTL_ATTRIBUTE)

    def job_args(self, source: str, replica: str, output: str) -> JobArgs:
        """The comparison job told of the pair's rules and "now", as the check tells it."""
        return JobArgs.of(source, replica, output, self.rules, self.now)

    @property
    def truth_without_rules(self) -> frozenset[tuple[str, str]]:
        """The differences a comparison told of no excluded or ignored attribute finds."""
        told = self.excluded_users | self.ignored_users
        return self.truth | {(Kind.DIFFERENT.value, user) for user in told}

    def users(self, kind: Kind) -> set[str]:
        return {user for found, user in self.truth if found == kind.value}

    def key(self, user: str) -> Raw:
        """The primary key of a user's item (DynamoDB JSON), as a report would hold it."""
        item = next(item for item in (*self.source, *self.replica) if _user(item) == user)
        return {name: item[name] for name in KEY_NAMES}

    @property
    def matched(self) -> int:
        keys = {_user(item) for item in self.source} | {_user(item) for item in self.replica}
        return len(keys) - len(self.truth) - self.expired


def _user(item: Mapping[str, Any]) -> str:
    return str(item["user_id"]["S"])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _item(rng: random.Random, user: str, timestamp: int, **extra: Any) -> Raw:
    """An ordinary source item: every type, nested maps, sets, numbers that have another spelling."""
    return {
        "user_id": {"S": user},
        "timestamp": {"N": str(timestamp)},
        "name": {"S": f"{SENTINEL} {user}"},
        "plan": {"S": rng.choice(["free", "pro", "team"])},
        "score": {"N": rng.choice(["1.50", "0.10", str(rng.randint(1, 999))])},
        "visits": {"N": rng.choice(["100", "42", "-7"])},
        "tags": {"SS": rng.sample(["red", "green", "blue", "cyan", "amber"], 3)},
        "lucky": {"NS": ["3.0", "42", str(rng.randint(1000, 9999))]},
        "avatar": {"B": _b64(rng.randbytes(12))},
        "keys": {"BS": [_b64(rng.randbytes(8)) for _ in range(3)]},
        "profile": {
            "M": {
                "city": {"S": rng.choice(["Oslo", "Lima", "Pune"])},
                "langs": {"L": [{"S": "en"}, {"N": "12.0"}, {"BOOL": True}]},
                "prefs": {
                    "M": {"dark": {"BOOL": rng.random() < 0.5}, "size": {"N": "12.0"}, "none": {"NULL": True}}
                },
            }
        },
        "active": {"BOOL": rng.random() < 0.5},
        **extra,
    }


def respelled(value: Any) -> Any:
    """The same DynamoDB value as the replica's export writes it: maps in another order, set members
    reversed, numbers in another spelling. Lists keep their order (it counts)."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "N":
            return {"N": RESPELLED.get(inner, inner)}
        if tag in ("SS", "BS", "NS"):
            members = [RESPELLED.get(m, m) for m in inner] if tag == "NS" else list(inner)
            return {tag: list(reversed(members))}
        if tag == "M":
            return {"M": _respelled_map(inner)}
        if tag == "L":
            return {"L": [respelled(member) for member in inner]}
    return value


def _respelled_map(item: Mapping[str, Any]) -> Raw:
    return {name: respelled(item[name]) for name in reversed(list(item))}


def _replica_of(source: Raw, sequence: int) -> Raw:
    """What the replica's export holds for a source item: its replicated view, written differently,
    with the replicator's version attribute."""
    copied = {
        name: copy.deepcopy(value)
        for name, value in source.items()
        if name not in EXCLUDED and not name.startswith(schema.LEGACY_GLOBAL_TABLE_PREFIX)
    }
    return {**_respelled_map(copied), schema.VERSION_ATTRIBUTE: {"S": version.encode(sequence)}}


def seeded_pair(*, seed: int = 15, ordinary: int = 40) -> SeededPair:
    """The pair: ``ordinary`` matching items, plus every seeded case of the module's docstring."""
    rng = random.Random(seed)
    past, future = str(int(NOW) - 3600), str(int(NOW) + 86_400)
    timestamps = iter(range(1_700_000_000, 1_800_000_000))
    source: list[Raw] = []
    replica: list[Raw] = []
    sequences = iter(range(10**20, 10**21))

    def both(user: str, **extra: Any) -> Raw:
        """A source item and its replica copy; returns the copy, for a test to change."""
        item = _item(rng, user, next(timestamps), **extra)
        held = _replica_of(item, next(sequences))
        source.append(item)
        replica.append(held)
        return held

    for n in range(ordinary):
        both(f"user-{n:06d}", **({TTL_ATTRIBUTE: {"N": future}} if n % 5 == 0 else {}))
    # Not differences.
    for n in range(2):
        both(f"excluded-{n}", secret={"S": f"{SENTINEL} secret"})
        held = both(f"ignored-{n}", last_seen={"N": "100"})
        held["last_seen"] = {"N": str(200 + n)}
    both("legacy-0", **{"aws:rep:updateregion": {"S": "us-east-1"}})
    source.append(_item(rng, "expired-source", next(timestamps), **{TTL_ATTRIBUTE: {"N": past}}))
    replica.append(
        _replica_of(_item(rng, "expired-replica", next(timestamps), **{TTL_ATTRIBUTE: {"N": past}}), 1)
    )
    held = both("expired-pair", **{TTL_ATTRIBUTE: {"N": past}})
    held["plan"] = {"S": "lapsed"}
    # Real differences.
    truth: set[tuple[str, str]] = set()
    for n in range(3):
        source.append(_item(rng, f"missing-{n}", next(timestamps)))
        truth.add((Kind.MISSING.value, f"missing-{n}"))
    for n in range(2):
        replica.append(_replica_of(_item(rng, f"extra-{n}", next(timestamps)), next(sequences)))
        truth.add((Kind.EXTRA.value, f"extra-{n}"))
    held = both("different-plan")
    held["plan"] = {"S": "enterprise"}
    held = both("different-set")
    held["tags"] = {"SS": held["tags"]["SS"][1:]}
    held = both("different-nested")
    held["profile"]["M"]["prefs"]["M"]["size"] = {"N": "13"}
    held = both("different-binary")
    held["avatar"] = {"B": _b64(b"\x00" + base64.b64decode(held["avatar"]["B"])[1:] + b"\x01")}
    truth |= {(Kind.DIFFERENT.value, f"different-{what}") for what in ("plan", "set", "nested", "binary")}
    source.append(
        _item(rng, "unreplicable-0", next(timestamps), **{schema.VERSION_ATTRIBUTE: {"S": version.ZERO}})
    )
    truth.add((Kind.UNREPLICABLE.value, "unreplicable-0"))
    return SeededPair(
        source=source,
        replica=replica,
        truth=frozenset(truth),
        excluded_users=frozenset({"excluded-0", "excluded-1"}),
        ignored_users=frozenset({"ignored-0", "ignored-1"}),
        expired=3,
    )


def spread(items: Sequence[Raw], *, files: int, empty: int, seed: int) -> list[list[Raw]]:
    """Items over ``files`` data files by key hash (as partitions hold them) plus ``empty`` empty
    files, the files and the items in each in a seeded order."""
    rng = random.Random(seed)
    buckets: list[list[Raw]] = [[] for _ in range(files)]
    for item in items:
        digest = hashlib.blake2b(_user(item).encode(), digest_size=4).digest()
        buckets[int.from_bytes(digest, "big") % files].append(item)
    for bucket in buckets:
        rng.shuffle(bucket)
    laid_out: list[list[Raw]] = [*buckets, *([] for _ in range(empty))]
    rng.shuffle(laid_out)
    return laid_out


@dataclass(frozen=True)
class WrittenPair:
    source: Path  # the source export's root (.../AWSDynamoDB/<ExportId>)
    replica: Path
    source_summary: ExportSummary
    replica_summary: ExportSummary


def write_pair(directory: Path, pair: SeededPair) -> WrittenPair:
    """Both exports under ``directory``: the source in 4 data files and 2 empty ones, the replica in 3
    and 1; the replica exported a minute after the source (the time cut)."""
    source_root = directory / "source" / EXPORT_FOLDER / "01800000000000-5a1e0001"
    replica_root = directory / "replica" / EXPORT_FOLDER / "01800000060000-5a1e0002"
    source_summary = write_export(
        source_root,
        spread(pair.source, files=4, empty=2, seed=1),
        table_arn=SOURCE_TABLE_ARN,
        export_time=pair.now,
        s3_prefix="exports/source",
    )
    replica_summary = write_export(
        replica_root,
        spread(pair.replica, files=3, empty=1, seed=2),
        table_arn=REPLICA_TABLE_ARN,
        export_time=pair.now + 60,
        s3_prefix="exports/replica",
    )
    return WrittenPair(source_root, replica_root, source_summary, replica_summary)


def _chunks(items: Sequence[Raw], size: int) -> Iterator[Sequence[Raw]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_into_tables(
    pair: SeededPair,
    source_client: DynamoDBClient,
    source_table: str,
    replica_client: DynamoDBClient,
    replica_table: str,
) -> None:
    """The same items in two DynamoDB tables (key user_id S + timestamp N), in the boto3 client form
    (B as bytes), so that the scan check runs on the pair."""
    for client, table, items in (
        (source_client, source_table, pair.source),
        (replica_client, replica_table, pair.replica),
    ):
        for chunk in _chunks(items, 25):  # BatchWriteItem takes at most 25 requests
            requests = [{"PutRequest": {"Item": item_from_event(item, "item")}} for item in chunk]
            unprocessed = client.batch_write_item(RequestItems={table: requests})["UnprocessedItems"]  # type: ignore[dict-item]
            assert not unprocessed, "the test tables throttled a batch"
