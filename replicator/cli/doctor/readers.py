"""The two-reader rule of DynamoDB Streams, written once: the doctor, ``redrive`` and
``python -m localrun run`` all count a stream's readers here.

"Do not allow more than two processes to read from the same DynamoDB Streams shard at the same
time. Exceeding this limit can result in request throttling." (DynamoDB Developer Guide, quotas,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Limits.html#limits-dynamodb-streams;
the API's ``LimitExceededException``: "More than 2 processes are reading from the same streams
shard at the same time".) For a global table, whose own replication reads the stream, the guide
recommends one. The CDK app's two mappings (replicator, usage metrics) take both; anything else
that reads the stream is a third reader and throttles all of them. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from replicator.cli.doctor.findings import Finding, Unreadable, failed, passed, skipped
from replicator.cli.doctor.views import MappingView

MAX_READERS = 2
MAX_READERS_GLOBAL_TABLE = 1

# A mapping in these states polls the stream (or is about to); Disabled and Deleting ones do not.
_READING = frozenset({"Creating", "Enabling", "Enabled", "Updating", "Disabling"})

ALLOW_FLAG = "--allow-third-reader"
ALLOW_FLAG_ALIAS = "--i-know-about-the-two-reader-limit"


def reading(mappings: Iterable[MappingView]) -> tuple[MappingView, ...]:
    return tuple(m for m in mappings if m.state in _READING)


def limit(*, global_table: bool) -> int:
    return MAX_READERS_GLOBAL_TABLE if global_table else MAX_READERS


def listed(mappings: Iterable[MappingView]) -> str:
    return ", ".join(f"{m.function_name} ({m.state})" for m in mappings) or "none"


@dataclass(frozen=True, slots=True)
class ReaderBudget:
    """The mappings reading one stream, and how many readers its shards serve."""

    stream_arn: str
    mappings: tuple[MappingView, ...]
    global_table: bool = False

    @property
    def readers(self) -> tuple[MappingView, ...]:
        return reading(self.mappings)

    @property
    def limit(self) -> int:
        return limit(global_table=self.global_table)

    def refusal(self, adding: int, who: str) -> str | None:
        """Why ``who`` (``adding`` more readers) must not start, or None when the stream has room."""
        readers = self.readers
        if len(readers) + adding <= self.limit:
            return None
        kind = "a global table's stream serves" if self.global_table else "a stream shard serves"
        disable = "; ".join(
            f"aws lambda update-event-source-mapping --uuid {m.uuid} --no-enabled" for m in readers[:1]
        )
        return (
            f"refusing to read {self.stream_arn}: {len(readers)} event source mapping(s) already read it "
            f"({listed(readers)}) and {kind} at most {self.limit} reader(s) at once, so {who} would "
            "throttle them all (the replicator falls behind). Run it while a mapping is disabled "
            f"({disable or 'aws lambda update-event-source-mapping --uuid UUID --no-enabled'}; enable it "
            f"again after), or accept the throttling with {ALLOW_FLAG}"
        )


def finding(
    mappings: tuple[MappingView, ...] | Unreadable | None, *, global_table: bool, local_endpoint: bool
) -> Finding:
    """The doctor's ``stream-readers`` check: at most two readers, listed by function."""
    check = "stream-readers"
    if mappings is None:
        return skipped(check, "the source has no stream to read (see above)")
    if isinstance(mappings, Unreadable):
        return mappings.finding(check)
    readers = reading(mappings)
    most = limit(global_table=global_table)
    kind = "a global table's stream (its own replication reads it too)" if global_table else "a stream shard"
    if len(readers) > most:
        return failed(
            check,
            f"{len(readers)} event source mappings read the stream: {listed(readers)}; {kind} serves at "
            f"most {most} reader(s), the others are throttled",
            "delete or disable the extra mapping(s): aws lambda delete-event-source-mapping --uuid "
            + " / ".join(m.uuid for m in readers[most:]),
        )
    if not readers and local_endpoint:
        return skipped(
            check,
            "no event source mapping on this endpoint: the local runtime emulates Lambda's mappings "
            "in-process (localrun.esm), so there are none to list",
        )
    if not readers:
        return failed(
            check,
            f"no event source mapping reads the stream ({listed(mappings)}): nothing replicates",
            "deploy the source stack (make deploy), or enable the replicator's mapping",
        )
    room = "; any other reader (redrive, localrun run) would be one too many" if len(readers) == most else ""
    return passed(check, f"{len(readers)} of at most {most} readers: {listed(readers)}{room}")
