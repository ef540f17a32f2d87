"""Metric catalogue: every series our two Lambda consumers publish through EMF.

Dimension *names* are fixed here; dimension *values* come from the deployment (the source table
name, the configured segment values, the tracked attribute names) and are bounded by it. No
dimension ever carries an item's contents or a user id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_REPLICATION_NAMESPACE = "DynamoDBReplication"
DEFAULT_USAGE_NAMESPACE = "DynamoDBUsage"

# Dimension names.
TABLE = "TableName"
OPERATION = "Operation"  # INSERT | MODIFY | REMOVE
SKIP_REASON = "Reason"  # see SkipReason
ERROR_CLASS = "ErrorClass"  # see replicator.core.errors: the class name of the failure
EVENT_NAME = "EventName"  # INSERT | MODIFY | REMOVE
ATTRIBUTE = "Attribute"  # one of TRACKED_ATTRIBUTES
CHANGE_TYPE = "ChangeType"  # added | changed | removed
SEGMENT = "Segment"  # one of SEGMENT_VALUES, or "other"

OTHER_SEGMENT = "other"

INTERNAL_ERROR = "InternalError"
ERROR_CLASSES: tuple[str, ...] = (
    # retried within the invocation, then handed back to Lambda
    "Throttled",
    "ReplicaUnavailable",
    "WriteConflict",
    "DeadlineExceeded",
    # not retried in-process (not the record's fault), handed back to Lambda at once
    "AccessDenied",
    "ReplicaMissing",
    # poison: the record can never be written as it is
    "MalformedInput",
    "MetadataCollision",
    "ExcludedKeyAttribute",
    "ItemTooLarge",
    "KeySchemaMismatch",
    "ReplicaRejected",
    # a defect in the replicator itself
    INTERNAL_ERROR,
)
"""Every value of the ErrorClass dimension (tests keep it equal to ``replicator.core.errors``)."""


class Unit(enum.StrEnum):
    COUNT = "Count"
    MILLISECONDS = "Milliseconds"
    BYTES = "Bytes"
    PERCENT = "Percent"


class SkipReason(enum.StrEnum):
    """Why a record needed no write to the replica."""

    STALE = "Stale"  # the replica already holds a newer version of the item
    ALREADY_APPLIED = "AlreadyApplied"  # this exact version is already there (a duplicate delivery)
    DELETED_LATER = "DeletedLater"  # a newer delete (tombstone) of the item has been replicated
    SUPERSEDED = "Superseded"  # a newer record for the same key in the same batch was written instead
    TTL_POLICY = "TtlPolicy"  # a TTL delete with TTL_DELETES=skip or expire


class ChangeType(enum.StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


Dimensions = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric name with its unit and the exact dimension sets it is published under."""

    name: str
    unit: Unit
    dimension_sets: tuple[Dimensions, ...]
    description: str
    high_resolution: bool = False
    distribution: bool = False
    """One value per record (sizes, lags), published whole: a plain array up to 100 values, EMF
    histograms above (telemetry.emf); every other metric has one value per document."""


# --- replicator --------------------------------------------------------------------------------

RECORDS_REPLICATED = MetricSpec(
    "RecordsReplicated",
    Unit.COUNT,
    ((TABLE,), (TABLE, OPERATION)),
    "Stream records whose change is now in the replica (written, or covered by a newer write of the "
    "same key in the same batch).",
    high_resolution=True,
)
RECORDS_SKIPPED = MetricSpec(
    "RecordsSkipped",
    Unit.COUNT,
    ((TABLE,), (TABLE, SKIP_REASON)),
    "Records that needed no write: stale, duplicate, deleted later, superseded in the batch, or TTL "
    "deletes under TTL_DELETES=skip.",
    high_resolution=True,
)
RECORDS_FAILED = MetricSpec(
    "RecordsFailed",
    Unit.COUNT,
    ((TABLE,), (TABLE, ERROR_CLASS)),
    "Records reported back to Lambda as failed (batchItemFailures), by error class.",
    high_resolution=True,
)
REPLICA_WRITES = MetricSpec(
    "ReplicaWrites",
    Unit.COUNT,
    ((TABLE,),),
    "Conditional write requests sent to the replica region (after per-key coalescing).",
    high_resolution=True,
)
REPLICA_THROTTLES = MetricSpec(
    "ReplicaThrottles",
    Unit.COUNT,
    ((TABLE,),),
    "Replica write attempts refused by throttling (each is retried with backoff).",
    high_resolution=True,
)
REPLICA_WRITE_UNITS = MetricSpec(
    "ReplicaWriteUnits",
    Unit.COUNT,
    ((TABLE,),),
    "Write request units the replica region reported consumed (ReturnConsumedCapacity) by the "
    "replicator's writes, its tombstones and its high-water mark. Divided by RecordsReplicated: the "
    "write units per replicated change (Global Tables bill 1 per 1 KB change).",
    high_resolution=True,
)
REPLICA_READ_UNITS = MetricSpec(
    "ReplicaReadUnits",
    Unit.COUNT,
    ((TABLE,),),
    "Read request units the replica region reported consumed by the replicator (the strongly "
    "consistent tombstone reads before inserts).",
    high_resolution=True,
)
REPLICATION_LAG = MetricSpec(
    "ReplicationLagMs",
    Unit.MILLISECONDS,
    ((TABLE,),),
    "Time from the source change (ApproximateCreationDateTime, 1 s resolution) to the replica write "
    "being acknowledged; one value per applied record.",
    distribution=True,
)

REPLICATOR_METRICS: tuple[MetricSpec, ...] = (
    RECORDS_REPLICATED,
    RECORDS_SKIPPED,
    RECORDS_FAILED,
    REPLICA_WRITES,
    REPLICA_THROTTLES,
    REPLICA_WRITE_UNITS,
    REPLICA_READ_UNITS,
    REPLICATION_LAG,
)

# --- usage metrics -----------------------------------------------------------------------------

ITEM_CHANGES = MetricSpec(
    "ItemChanges",
    Unit.COUNT,
    ((TABLE,), (TABLE, EVENT_NAME), (TABLE, SEGMENT)),
    "Item changes made by users (INSERT, MODIFY, REMOVE; TTL deletes are counted in TtlDeletes only), "
    "in total, by event name, and by segment.",
    high_resolution=True,
)
TTL_DELETES = MetricSpec(
    "TtlDeletes",
    Unit.COUNT,
    ((TABLE,),),
    "REMOVE records made by DynamoDB's Time to Live process (not counted as user deletes).",
    high_resolution=True,
)
ATTRIBUTE_CHANGES = MetricSpec(
    "AttributeChanges",
    Unit.COUNT,
    ((TABLE, ATTRIBUTE, CHANGE_TYPE),),
    "Changes of a tracked attribute between the old and new image: added, changed or removed.",
    high_resolution=True,
)
ITEM_SIZE = MetricSpec(
    "ItemSizeBytes",
    Unit.BYTES,
    ((TABLE,),),
    "Size of the new image (DynamoDB's item-size rule) of every INSERT and MODIFY.",
    distribution=True,
)
ACTIVE_USERS = MetricSpec(
    "ActiveUsers",
    Unit.COUNT,
    ((TABLE,), (TABLE, SEGMENT)),
    "Distinct users who changed an item in a minute, table-wide: every shard's window summaries of "
    "the minute merged (USAGE_TABLE_NAME set, as deployed), published by the merge function. "
    "Without a usage table the consumer publishes each shard's tumbling window instead. Exact up "
    "to a bound, a HyperLogLog estimate above it.",
)
HOURLY_ACTIVE_USERS = MetricSpec(
    "HourlyActiveUsers",
    Unit.COUNT,
    ((TABLE,), (TABLE, SEGMENT)),
    "Distinct users in the last 60 minutes (rolling, to the minute), table-wide; published by the "
    "merge function every minute.",
)
DAILY_ACTIVE_USERS = MetricSpec(
    "DailyActiveUsers",
    Unit.COUNT,
    ((TABLE,), (TABLE, SEGMENT)),
    "DAU: distinct users in the last 24 hours counted in whole clock hours (the current hour so far "
    "and the 23 before it), table-wide; published by the merge function every minute.",
)
MONTHLY_ACTIVE_USERS = MetricSpec(
    "MonthlyActiveUsers",
    Unit.COUNT,
    ((TABLE,), (TABLE, SEGMENT)),
    "MAU: distinct users in the last 30 days counted in whole UTC days (today so far and the 29 "
    "before it), table-wide; published by the merge function every minute.",
)
STICKINESS = MetricSpec(
    "Stickiness",
    Unit.PERCENT,
    ((TABLE,), (TABLE, SEGMENT)),
    "DailyActiveUsers / MonthlyActiveUsers in percent, published with them.",
)
CHANGE_LAG = MetricSpec(
    "ChangeLagMs",
    Unit.MILLISECONDS,
    ((TABLE,),),
    "Freshness: time from the source change (ApproximateCreationDateTime) to its processing.",
    distribution=True,
)
MALFORMED_RECORDS = MetricSpec(
    "MalformedRecords",
    Unit.COUNT,
    ((TABLE,),),
    "Records that could not be parsed; counted and skipped, they never fail the batch.",
    high_resolution=True,
)

USAGE_METRICS: tuple[MetricSpec, ...] = (
    ITEM_CHANGES,
    TTL_DELETES,
    ATTRIBUTE_CHANGES,
    ITEM_SIZE,
    ACTIVE_USERS,
    CHANGE_LAG,
    MALFORMED_RECORDS,
    HOURLY_ACTIVE_USERS,
    DAILY_ACTIVE_USERS,
    MONTHLY_ACTIVE_USERS,
    STICKINESS,
)
