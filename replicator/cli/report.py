"""What the commands tell the operator: a human summary and a JSON document. Built purely.

Neither ever holds an attribute value. The summary names keys only by their hash (as the
replicator's logs do); the JSON document holds the differing keys themselves (in Lambda's event
form: binary as base64), so that an operator can act on them, and the *names* of differing
attributes, never their values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ddbstream.attributes import item_to_event
from replicator.cli.exports.results import EXPORT_USD_PER_GB, ExportFacts, ExportSide, iso_utc
from replicator.cli.results import CheckResult, KeyRepair, MessageResult, Status
from replicator.core.compare import Difference, count_by_kind

SHOWN = 10


def difference_entry(difference: Difference) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": difference.kind.value,
        "key": item_to_event(difference.keys),
        "keyHash": difference.key_hash,
    }
    if difference.attributes:
        entry["attributes"] = list(difference.attributes)
    return entry


def check_document(result: CheckResult) -> dict[str, Any]:
    stats = result.stats
    return {
        "consistent": result.consistent,
        "counts": count_by_kind(result.differences),
        "sourceItems": stats.source_items,
        "replicaItems": stats.replica_items,
        "matched": stats.matched,
        "expiredIgnored": stats.expired,
        "candidates": result.candidates,
        "settledOnReread": result.settled,
        "sample": result.sample,
        "segmentsScanned": result.scanned_segments,
        "totalSegments": result.total_segments,
        "readUnits": {"source": round(result.source_units, 1), "replica": round(result.replica_units, 1)},
        "throttledRetries": result.throttled,
        "seconds": round(result.seconds, 3),
        "differences": [difference_entry(d) for d in result.differences],
        **({"exports": exports_entry(result.exports)} if result.exports is not None else {}),
    }


def _export_side(side: ExportSide) -> dict[str, Any]:
    return {
        "location": side.location,
        "exportArn": side.arn,
        "exportTime": iso_utc(side.export_time),
        "items": side.items,
        "billedSizeBytes": side.billed_bytes,
        "bytesRead": side.bytes_read,
    }


def exports_entry(facts: ExportFacts) -> dict[str, Any]:
    return {
        "engine": facts.engine,
        "source": _export_side(facts.source),
        "replica": _export_side(facts.replica),
        "marginSeconds": facts.margin_seconds,
        "jobSeconds": round(facts.job_seconds, 3),
        "exportCostUsd": round(facts.cost_usd, 4),
    }


def _size(count: int) -> str:
    return f"{count / 1e9:,.2f} GB" if count >= 1e8 else f"{count / 1e6:,.2f} MB"


def exports_summary(facts: ExportFacts) -> list[str]:
    s, r = facts.source, facts.replica
    return [
        f"  exports: source as of {iso_utc(s.export_time)} ({s.items:,} items), replica as of "
        f"{iso_utc(r.export_time)}, {facts.margin_seconds:,.0f} s later ({r.items:,} items); "
        f"Spark ({facts.engine}) {facts.job_seconds:,.1f} s.",
        f"  read from the exports: {_size(s.bytes_read + r.bytes_read)} (source {_size(s.bytes_read)}, "
        f"replica {_size(r.bytes_read)}); export cost ${facts.cost_usd:,.2f} "
        f"(${EXPORT_USD_PER_GB:.2f} per GB of the tables' billed size, "
        f"{_size(s.billed_bytes + r.billed_bytes)}).",
    ]


def check_summary(result: CheckResult) -> list[str]:
    stats = result.stats
    counts = count_by_kind(result.differences)
    scope = (
        "from exports"
        if result.exports is not None
        else f"sample of {result.scanned_segments}/{result.total_segments} segments"
        if result.sample is not None
        else f"{result.total_segments} segment(s)"
    )
    lines = [
        f"Compared {stats.source_items:,} source and {stats.replica_items:,} replica items "
        f"({scope}, {result.seconds:.1f} s).",
        f"  matched {stats.matched:,}; expired by TTL (ignored) {stats.expired:,}; "
        f"candidates {result.candidates:,}, of which {result.settled:,} agreed when read again.",
        f"  read units: source {result.source_units:,.1f}, replica {result.replica_units:,.1f}; "
        f"throttled requests retried: {result.throttled:,}.",
        *(exports_summary(result.exports) if result.exports is not None else []),
    ]
    if result.consistent:
        lines.append("CONSISTENT: no differences.")
        return lines
    lines.append(
        f"DIFFERENCES: {len(result.differences):,} "
        f"(missing in replica {counts['missing']:,}, extra in replica {counts['extra']:,}, "
        f"different {counts['different']:,}, unreplicable {counts['unreplicable']:,})."
    )
    lines += [f"  {d.kind.value:<12} key hash {d.key_hash}" for d in result.differences[:SHOWN]]
    if len(result.differences) > SHOWN:
        lines.append(f"  ... and {len(result.differences) - SHOWN:,} more (--json PATH lists every key)")
    return lines


def repair_document(repairs: Sequence[KeyRepair]) -> list[dict[str, Any]]:
    out = []
    for repair in repairs:
        entry = {**difference_entry(repair.difference), "status": repair.status.value}
        if repair.outcome is not None:
            entry["outcome"] = repair.outcome.value
        if repair.error_class:
            entry["errorClass"] = repair.error_class
        out.append(entry)
    return out


def repair_summary(repairs: Sequence[KeyRepair]) -> list[str]:
    by_status = {status: 0 for status in Status}
    for repair in repairs:
        by_status[repair.status] += 1
    lines = [
        f"Repaired {by_status[Status.REPAIRED]:,} of {len(repairs):,} key(s), verified by reading again; "
        f"still different after repair {by_status[Status.STILL_DIFFERENT]:,}; "
        f"gave up (replica kept changing) {by_status[Status.GAVE_UP]:,}; "
        f"unreplicable {by_status[Status.UNREPLICABLE]:,}; failed {by_status[Status.FAILED]:,}."
    ]
    lines += [
        f"  not repaired: {r.status.value:<12} key hash {r.difference.key_hash}"
        + (f" ({r.error_class})" if r.error_class else "")
        for r in repairs
        if r.status is not Status.REPAIRED
    ][:SHOWN]
    return lines


def redrive_document(results: Iterable[MessageResult]) -> list[dict[str, Any]]:
    out = []
    for result in results:
        entry: dict[str, Any] = {
            "messageId": result.message_id,
            "verdict": result.verdict.value,
            "records": result.records,
        }
        if result.info is not None:
            entry["range"] = {
                "shardId": result.info.shard_id,
                "start": result.info.start_sequence_number,
                "end": result.info.end_sequence_number,
            }
        if result.errors:
            entry["errors"] = dict(result.errors)
        if result.detail:
            entry["detail"] = result.detail
        out.append(entry)
    return out


def redrive_summary(results: Sequence[MessageResult]) -> list[str]:
    lines = [f"Read {len(results):,} failure message(s)."]
    for result in results:
        where = (
            f" seq {result.info.start_sequence_number}..{result.info.end_sequence_number}"
            if result.info is not None
            else ""
        )
        errors = f" errors {dict(result.errors)}" if result.errors else ""
        detail = f" ({result.detail})" if result.detail else ""
        lines.append(
            f"  {result.verdict.value:<11} message {result.message_id}{where}: "
            f"{result.records} record(s){errors}{detail}"
        )
    return lines
