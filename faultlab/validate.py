"""Validators on the final state of a fault-injection run (the suite's tests and ``make soak``).

Each returns a list of problems, empty when the property holds; :func:`require` turns a list into
an ``AssertionError``. Problems name keys and attribute names, never attribute values, so they can
be printed and committed (docs/reliability.md).

* :func:`table_differences`: the replica equals the source item for item (metadata ignored), no
  extra items;
* :func:`ground_truth_differences`: the source holds what the workload wrote (the checker's own
  model, so the comparison above cannot pass on two equally wrong tables);
* :func:`version_problems`: per key, every write the replica accepted carries a higher version than
  the one before (from the embedded server's ledger), and the ledger agrees with the table;
* :func:`accounting_problems`: per replicator invocation, RecordsReplicated + RecordsSkipped +
  RecordsFailed equals the records handed to it, RecordsReplicated equals the replica writes
  acknowledged to it, ReplicaThrottles equals the throttles injected into it;
* :func:`usage_problems`: ItemChanges equals the writes made, plus only what failed invocations
  published before failing (the documented at-least-once effect);
* :func:`sentinel_hits`: none of the planted sentinel values appears in any captured text.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ddbstream import key_id, primary_key
from faultlab.faults import InvocationFaults
from faultlab.ledger import AcceptedWrite
from faultlab.observations import InvocationSeen
from localrun.cloudwatch.emf import EmfError, parse_line
from replicator.core.schema import VERSION_ATTRIBUTE
from telemetry import catalogue as c

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]


def require(problems: Sequence[str], what: str) -> None:
    """Raise ``AssertionError`` listing the problems (at most 20 of them), if there are any."""
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise AssertionError(f"{what}: {len(problems)} problem(s)\n  {shown}{more}")


def require_all(problems: Mapping[str, Sequence[str]]) -> None:
    """:func:`require` for several validators at once; the message names each failing one."""
    failing = [f"{name}: {len(found)}" for name, found in problems.items() if found]
    if failing:
        details = "\n".join(
            f"[{name}]\n  " + "\n  ".join(found[:10]) for name, found in problems.items() if found
        )
        raise AssertionError(f"validators failed ({', '.join(failing)})\n{details}")


def scan_items(client: DynamoDBClient, table: str, key_names: Sequence[str]) -> dict[str, Item]:
    """Every item of ``table`` by key text, read with consistent reads."""
    items: dict[str, Item] = {}
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            items[key_id(primary_key(item, key_names))] = dict(item)
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def without_metadata(item: Mapping[str, Any]) -> Item:
    return {name: value for name, value in item.items() if name != VERSION_ATTRIBUTE}


def _compare(left: Mapping[str, Item], right: Mapping[str, Item], names: tuple[str, str]) -> list[str]:
    problems = [f"{key}: in the {names[0]}, missing in the {names[1]}" for key in sorted(left.keys() - right)]
    problems += [f"{key}: in the {names[1]}, not in the {names[0]}" for key in sorted(right.keys() - left)]
    for key in sorted(left.keys() & right.keys()):
        a, b = left[key], right[key]
        if a != b:
            differing = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
            problems.append(f"{key}: attributes differ: {', '.join(differing)}")
    return problems


def table_differences(
    source: Mapping[str, Item], replica: Mapping[str, Item], *, exempt: Iterable[str] = ()
) -> list[str]:
    """Differences between the source and the replica (its metadata removed); ``exempt`` keys skipped."""
    skip = set(exempt)
    left = {k: v for k, v in source.items() if k not in skip}
    right = {k: without_metadata(v) for k, v in replica.items() if k not in skip}
    return _compare(left, right, ("source", "replica"))


def ground_truth_differences(expected: Mapping[str, Item], source: Mapping[str, Item]) -> list[str]:
    return _compare(dict(expected), dict(source), ("workload's ground truth", "source"))


def version_problems(writes: Sequence[AcceptedWrite], replica: Mapping[str, Item]) -> list[str]:
    """Per key, accepted versions strictly increase in the order the replica applied them, and the
    last accepted write is what the replica holds (the item at that version, or no item)."""
    problems: list[str] = []
    last: dict[str, AcceptedWrite] = {}
    for write in writes:
        if write.version is None:
            problems.append(f"{write.key}: {write.operation} #{write.order} accepted without a version")
            continue
        before = last.get(write.key)
        if before is not None and before.version is not None and write.version <= before.version:
            what = "applied twice" if write.version == before.version else "went backwards"
            problems.append(
                f"{write.key}: write #{write.order} ({write.operation}, seq {write.seq}) accepted at "
                f"version {int(write.version)} after #{before.order} at {int(before.version)}: {what}"
            )
        last[write.key] = write
    for key, item in replica.items():
        final = last.get(key)
        stored = item.get(VERSION_ATTRIBUTE, {}).get("S")
        if final is None or final.deleted or final.version != stored:
            problems.append(f"{key}: the replica holds version {stored}, not its last accepted write")
    problems += [
        f"{key}: deleted last, yet the replica holds it"
        for key, write in last.items()
        if write.deleted and key in replica
    ]
    return problems


# --- metrics ----------------------------------------------------------------------------------


def emf_values(lines: Iterable[str], namespace: str, metric: str, dimensions: Mapping[str, str]) -> float:
    """Sum of ``metric`` over the EMF documents in ``lines`` with exactly these dimensions."""
    wanted = tuple(sorted(dimensions.items()))
    total = 0.0
    for line in lines:
        try:
            datums = parse_line(line)
        except EmfError:
            continue
        for datum in datums or ():
            if (datum.namespace, datum.name, datum.dimensions) == (namespace, metric, wanted):
                total += sum(datum.values)
    return total


def accounting_problems(
    invocations: Iterable[InvocationSeen],
    faults: Mapping[str, InvocationFaults],
    extra_records: Mapping[str, int],
    *,
    namespace: str,
    table: str,
) -> list[str]:
    """The replicator's per-invocation metrics against what it was given and what the replica did."""
    problems: list[str] = []
    dims = {c.TABLE: table}
    for seen in invocations:
        if seen.failed:
            continue  # its response, and with a timeout its output, never counted
        lines = seen.output

        def total(spec: c.MetricSpec, lines: tuple[str, ...] = lines) -> int:
            return round(emf_values(lines, namespace, spec.name, dims))

        replicated, skipped, failed = (
            total(c.RECORDS_REPLICATED),
            total(c.RECORDS_SKIPPED),
            total(c.RECORDS_FAILED),
        )
        delivered = seen.records + extra_records.get(seen.request_id, 0)
        if replicated + skipped + failed != delivered:
            problems.append(
                f"invocation {seen.request_id}: replicated {replicated} + skipped {skipped} + failed "
                f"{failed} != {delivered} records delivered"
            )
        injected = faults.get(seen.request_id)
        if injected is None:
            continue
        # Each replicated record had exactly one acknowledged write (its put, or its tombstone). A
        # REMOVE whose tombstone was acknowledged but whose delete then failed is reported failed
        # (Lambda delivers it again), so a failed record may own one acknowledged write as well.
        acknowledged = injected.acknowledged_writes
        if not replicated <= acknowledged <= replicated + failed:
            problems.append(
                f"invocation {seen.request_id}: RecordsReplicated {replicated} (failed {failed}) does not "
                f"account for the {acknowledged} replica writes acknowledged to it"
            )
        if total(c.REPLICA_THROTTLES) != injected.throttles:
            problems.append(
                f"invocation {seen.request_id}: ReplicaThrottles {total(c.REPLICA_THROTTLES)} != "
                f"{injected.throttles} throttles injected"
            )
    return problems


def usage_problems(
    invocations: Iterable[InvocationSeen], *, namespace: str, table: str, writes: int
) -> list[str]:
    """ItemChanges = writes; a failed invocation's published changes are the at-least-once extra."""
    dims = {c.TABLE: table}
    counted = duplicated = 0.0
    for seen in invocations:
        value = emf_values(seen.output, namespace, c.ITEM_CHANGES.name, dims)
        counted += value
        if seen.failed:
            duplicated += value  # published before the failure; the retry publishes them again
    if round(counted - duplicated) != writes:
        return [
            f"ItemChanges {counted:g} (of which {duplicated:g} from failed invocations, delivered again) "
            f"!= {writes} writes"
        ]
    return []


# --- failure destination and privacy ------------------------------------------------------------


def sentinel_forms(sentinels: Iterable[str | bytes]) -> list[str]:
    """How a sentinel could show up in text: as itself, or base64 (binary values, Lambda events)."""
    forms: list[str] = []
    for sentinel in sentinels:
        raw = sentinel.encode() if isinstance(sentinel, str) else sentinel
        if isinstance(sentinel, str):
            forms.append(sentinel)
        forms.append(base64.b64encode(raw).decode())
    return forms


def sentinel_hits(named_texts: Mapping[str, Iterable[str]], sentinels: Iterable[str | bytes]) -> list[str]:
    """Where any form of any sentinel appears: ``{"where": [texts]}`` -> problems."""
    forms = sentinel_forms(sentinels)
    found: Counter[tuple[str, str]] = Counter()
    for where, texts in named_texts.items():
        for text in texts:
            for form in forms:
                if form in text:
                    found[(where, form)] += 1
    index = {form: i for i, form in enumerate(forms)}
    return [
        f"{where}: sentinel form #{index[form]} appears {n} time(s)" for (where, form), n in found.items()
    ]


def failure_destination_problems(
    queued: Mapping[str, Any], redrive_report: Mapping[str, Any], depth_after: int
) -> list[str]:
    """After ``redrive``: every message that was queued (by id) is in its report, either applied (and
    gone from the queue) or kept with the error classes of the records that failed again, and the
    queue holds exactly the kept ones: nothing silently dropped, nothing silently left behind."""
    entries = {entry.get("messageId"): entry for entry in redrive_report.get("messages", [])}
    problems = [
        f"message {mid}: queued, not in the redrive report" for mid in sorted(queued) if mid not in entries
    ]
    kept = [entry for entry in entries.values() if entry.get("verdict") != "applied"]
    problems += [
        f"message {entry.get('messageId')}: kept ({entry.get('verdict')}) without an error class"
        for entry in kept
        if not entry.get("errors")
    ]
    if depth_after != len(kept):
        problems.append(f"the queue holds {depth_after} message(s) after redrive; it kept {len(kept)}")
    return problems
