"""Names the replicator writes into the replica region, shared with the CDK app and the CLI.

Replica items carry one metadata attribute, :data:`VERSION_ATTRIBUTE`: the source stream sequence
number of the change they reflect, zero-padded to a fixed width so that DynamoDB's string
comparison orders versions exactly as the integers they encode.

The *state table* (one per replica table, in the replica region) holds what replica readers must
never see: a tombstone per deleted key and a high-water mark per source table. Both expire through
the table's TTL attribute.
"""

from __future__ import annotations

VERSION_ATTRIBUTE = "repl:version"
"""Version of the change an item reflects (fixed-width sequence number)."""

LEGACY_GLOBAL_TABLE_PREFIX = "aws:rep:"
"""Attributes written by global tables version 2017.11.29; never copied."""

STATE_PARTITION_KEY = "pk"
STATE_TTL_ATTRIBUTE = "expires_at"
STATE_TABLE_SUFFIX = "-replication-state"
TOMBSTONE_PREFIX = "tomb#"
WATERMARK_PREFIX = "watermark#"

MIN_TOMBSTONE_RETENTION_HOURS = 25
"""A tombstone must outlive every stream record of its key: DynamoDB Streams keeps records for 24
hours (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html), so a replayed
INSERT older than a delete always meets that delete's tombstone. Shorter retention allows resurrection."""
MAX_TOMBSTONE_RETENTION_HOURS = 24 * 365
DEFAULT_TOMBSTONE_RETENTION_HOURS = 72
"""The replicator's, the CLI's and the deployment's default: three days of margin over the minimum."""

VERSION_WIDTH = 40
"""Stream sequence numbers are at most 40 digits long (DynamoDB Streams API reference)."""


def default_state_table(replica_table: str) -> str:
    """The state table's name when STATE_TABLE_NAME (``--state-table``, ``stateTableName``) is not set."""
    return f"{replica_table}{STATE_TABLE_SUFFIX}"


def tombstone_pk(key_hash: str) -> str:
    return f"{TOMBSTONE_PREFIX}{key_hash}"


WATERMARK_BUCKETS = 32
"""The high-water mark is spread over this many state items (``watermark#<table>#<bucket>``), one
chosen per execution environment, so no single item takes more than a small share of the
invocations' writes (DynamoDB throttles one item past about 1,000 writes per second). The mark is
the maximum over all buckets, and over the single item of releases before buckets."""


def watermark_pk(source_table: str, bucket: int | None = None) -> str:
    """A bucket's item of the source table's high-water mark; ``None``: the pre-bucket single item."""
    base = f"{WATERMARK_PREFIX}{source_table}"
    return base if bucket is None else f"{base}#{bucket}"
