"""Rules about the tables: the stream, the key schemas, the replica and state tables, TTL and PITR.

Pure: views in, :class:`~replicator.cli.doctor.findings.Finding` out.
"""

from __future__ import annotations

from replicator.cli.doctor.facts import Expected, Facts, TableFacts
from replicator.cli.doctor.findings import Finding, Unreadable, failed, passed, skipped, warned
from replicator.cli.doctor.views import NEW_AND_OLD_IMAGES, TableView, TtlView, keys_text
from replicator.core import schema
from replicator.core.policy import TtlPolicy

STATE_KEYS = ((schema.STATE_PARTITION_KEY, "S"),)


def _absent(facts: TableFacts, check: str, fix: str) -> Finding | None:
    """The finding when the table could not be described (missing or unreadable), else None."""
    if facts.table is None:
        return failed(check, f"{facts.where} does not exist", fix)
    if isinstance(facts.table, Unreadable):
        return facts.table.finding(check)
    return None


def stream(facts: Facts) -> Finding:
    check, source = "stream", facts.source
    absent = _absent(source, check, f"check --source (REGION/TABLE); got {source.region}/{source.name}")
    if absent is not None:
        return absent
    table = source.table
    assert isinstance(table, TableView)
    enable = (
        f"aws dynamodb update-table --region {source.region} --table-name {source.name} "
        f"--stream-specification StreamEnabled=true,StreamViewType={NEW_AND_OLD_IMAGES}"
    )
    if not table.stream_enabled:
        return failed(check, f"{source.where} has no stream: nothing can be replicated", enable)
    if table.stream_view_type != NEW_AND_OLD_IMAGES:
        return failed(
            check,
            f"the stream's view type is {table.stream_view_type}; the replicator needs both images "
            f"({NEW_AND_OLD_IMAGES}) and fails every other record as poison",
            "a stream's view type cannot be changed: disable the stream, then `"
            + enable
            + "` (a new stream ARN: deploy again with existingStreamArn set to it, then run backfill "
            "and check)",
        )
    status = (
        facts.stream.status if facts.stream is not None and not isinstance(facts.stream, Unreadable) else ""
    )
    if status in ("DISABLED", "DISABLING"):
        return failed(check, f"the stream {table.stream_arn} is {status}", enable)
    if status == "ENABLING":
        return warned(
            check, f"the stream {table.stream_arn} is still ENABLING", "run the doctor again in a minute"
        )
    return passed(check, f"{source.where} streams {NEW_AND_OLD_IMAGES} ({table.stream_arn})")


def key_schema(facts: Facts) -> Finding:
    check = "key-schema"
    source, replica = facts.source.table, facts.replica.table
    if not isinstance(source, TableView) or not isinstance(replica, TableView):
        return skipped(check, "needs both the source and the replica table described (see above)")
    if source.keys != replica.keys:
        return failed(
            check,
            f"the source's keys are {keys_text(source.keys)} but the replica's are "
            f"{keys_text(replica.keys)}: every record would fail (key schema mismatch)",
            "create the replica with the source's key schema (the CDK app takes it from partitionKey "
            "and sortKey in cdk.json), or point --replica at the right table",
        )
    return passed(check, f"source and replica both have keys {keys_text(source.keys)}")


def replica_table(facts: Facts) -> Finding:
    check, replica = "replica-table", facts.replica
    absent = _absent(
        replica, check, "deploy the replica stack (make deploy), or point --replica at the replica table"
    )
    if absent is not None:
        return absent
    assert isinstance(replica.table, TableView)
    if replica.table.status != "ACTIVE":
        return warned(
            check, f"{replica.where} is {replica.table.status}", "run the doctor again once it is ACTIVE"
        )
    return passed(check, f"{replica.where} exists and is ACTIVE")


def state_table(facts: Facts) -> Finding:
    check, state = "state-table", facts.state
    if state.table is None:
        return failed(
            check,
            f"{state.where} does not exist: the replicator keeps its tombstones and high-water mark "
            "there and fails every batch without it",
            "deploy the replica stack (make deploy); if the state table has another name, give it with "
            "--state-table (the replicator's STATE_TABLE_NAME)",
        )
    if isinstance(state.table, Unreadable):
        return state.table.finding(check)
    assert isinstance(state.table, TableView)
    if state.table.keys != STATE_KEYS:
        return failed(
            check,
            f"{state.where} has keys {keys_text(state.table.keys)}; the replicator needs "
            f"{keys_text(STATE_KEYS)}",
            "give --state-table the replicator's state table, or create it as the CDK app does",
        )
    if isinstance(state.ttl, Unreadable):
        return state.ttl.finding(check)
    attribute = state.ttl.attribute_if_on if state.ttl is not None else None
    expected = schema.STATE_TTL_ATTRIBUTE
    if attribute != expected:
        now = f"TTL on {attribute!r}" if attribute else "TTL off"
        return failed(
            check,
            f"{state.where} has {now}; tombstones carry their expiry in {expected!r}, so they are "
            "never deleted and the table grows forever",
            f"aws dynamodb update-time-to-live --region {state.region} --table-name {state.name} "
            f"--time-to-live-specification Enabled=true,AttributeName={expected}",
        )
    return passed(check, f"{state.where} exists, key {keys_text(STATE_KEYS)}, TTL on {expected!r}")


def _ttl_text(ttl: TtlView | None) -> str:
    attribute = ttl.attribute_if_on if ttl is not None else None
    return f"TTL on {attribute!r}" if attribute else "TTL off"


def ttl_policy(facts: Facts, expected: Expected) -> Finding:
    """The source's TTL, the replica's TTL and TTL_DELETES must tell one story (docs/deployment.md)."""
    check, policy = "ttl-policy", expected.ttl_policy
    told = f"TTL_DELETES={policy.value} (--ttl-deletes)"
    for side in (facts.source, facts.replica):
        if isinstance(side.ttl, Unreadable):
            return side.ttl.finding(check)
    source_ttl = facts.source.ttl if isinstance(facts.source.ttl, TtlView) else None
    replica_ttl = facts.replica.ttl if isinstance(facts.replica.ttl, TtlView) else None
    if facts.source.table is None:
        return skipped(check, "needs the source table (see above)")
    source_attr = source_ttl.attribute_if_on if source_ttl else None
    replica_attr = replica_ttl.attribute_if_on if replica_ttl else None
    set_source = (
        f"aws dynamodb update-time-to-live --region {facts.source.region} --table-name {facts.source.name} "
        "--time-to-live-specification Enabled=true,AttributeName="
    )
    if expected.ttl_attribute and source_attr != expected.ttl_attribute:
        return failed(
            check,
            f"the source has {_ttl_text(source_ttl)} but the deployment's ttlAttribute (--ttl-attribute) "
            f"is {expected.ttl_attribute!r}",
            f"{set_source}{expected.ttl_attribute}, or give --ttl-attribute as cdk.json's ttlAttribute",
        )
    stop_replica = (
        f"aws dynamodb update-time-to-live --region {facts.replica.region} --table-name "
        f"{facts.replica.name} --time-to-live-specification Enabled=false,AttributeName={replica_attr}"
    )
    if replica_attr is not None and replica_attr != source_attr:
        return failed(
            check,
            f"the replica expires items on {replica_attr!r} but the source has {_ttl_text(source_ttl)}: "
            "the replica deletes items the source keeps",
            stop_replica,
        )
    if replica_attr is not None and policy is TtlPolicy.SKIP:
        return failed(
            check,
            f"{told} keeps expired items in the replica as an archive, but the replica's own TTL on "
            f"{replica_attr!r} deletes them",
            f"{stop_replica}, or choose another ttlDeletes",
        )
    if replica_attr is not None and policy is TtlPolicy.REPLICATE:
        return warned(
            check,
            f"the replica has TTL on {replica_attr!r} as well; with {told} the source's expiries arrive "
            "as deletes anyway (the CDK app enables replica TTL only with expire)",
            f"{stop_replica}, or deploy with ttlDeletes=expire and run the doctor with --ttl-deletes expire",
        )
    if policy is TtlPolicy.EXPIRE:
        if source_attr is None:
            return failed(
                check,
                f"{told} leaves expiries to the replica's own TTL on the source's TTL attribute, but "
                "the source has TTL off",
                f"{set_source}<ttlAttribute>, or choose ttlDeletes replicate",
            )
        if source_attr in expected.settings.exclude_attributes:
            return failed(
                check,
                f"{told} needs {source_attr!r} in the replica, but it is excluded (EXCLUDE_ATTRIBUTES): "
                "replica items would never expire",
                f"stop excluding {source_attr!r}, or choose ttlDeletes replicate",
            )
        if replica_attr is None:
            return failed(
                check,
                f"{told} leaves expiries to the replica's own TTL, but the replica has TTL off: expired "
                "items stay in the replica forever",
                f"aws dynamodb update-time-to-live --region {facts.replica.region} --table-name "
                f"{facts.replica.name} --time-to-live-specification Enabled=true,AttributeName={source_attr}",
            )
        return passed(check, f"{told}: source and replica both expire items on {source_attr!r}")
    if source_attr is None:
        return passed(check, f"the source has TTL off; {told} never applies")
    meaning = (
        "expiries replicate as deletes"
        if policy is TtlPolicy.REPLICATE
        else "the replica keeps expired items"
    )
    return passed(check, f"the source has TTL on {source_attr!r}, the replica none; {told}: {meaning}")


# The export-based check (ExportTableToPointInTime) and a restore to a point in time both need PITR;
# the CDK app enables it on all three tables. The state table's is a warning: restoring the replica
# needs it too, but replication itself does not.
_PITR_REQUIRED = {"source": True, "replica": True, "state": False}


def pitr(facts: Facts) -> Finding:
    check = "pitr"
    off: list[TableFacts] = []
    unread: list[Unreadable] = []
    for side in (facts.source, facts.replica, facts.state):
        if isinstance(side.pitr, Unreadable):
            unread.append(side.pitr)
        elif side.pitr is not None and not side.pitr.on:
            off.append(side)
    fix = "; ".join(
        f"aws dynamodb update-continuous-backups --region {side.region} --table-name {side.name} "
        "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true"
        for side in off
    )
    why = (
        "an export-based check (ExportTableToPointInTime) and a restore to a point in time need it; "
        "the CDK app enables it on every table"
    )
    names = ", ".join(side.where for side in off)
    if any(_PITR_REQUIRED[side.role] for side in off):
        return failed(check, f"point-in-time recovery is off on {names}: {why}", fix)
    if unread:
        return unread[0].finding(check)
    if off:
        return warned(check, f"point-in-time recovery is off on {names}: {why}", fix)
    read = [side.role for side in (facts.source, facts.replica, facts.state) if side.pitr is not None]
    if not read:
        return skipped(check, "no table to read (see above)")
    return passed(check, f"point-in-time recovery is on for the {', '.join(read)} table(s)")
