"""Shard lineage: every child shard must start above where its parent ended.

The version scheme compares sequence numbers of one key across a shard split, and the high-water
mark of repair and backfill compares them across shards (docs/design.md, "Stream guarantees relied
on"). AWS documents the order per item; this rule checks what a stream's own description can show:
after a split, a child's ``StartingSequenceNumber`` is above its parent's ``EndingSequenceNumber``.
Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from replicator.cli.doctor.findings import Finding, Unreadable, failed, passed, skipped
from replicator.cli.doctor.views import ShardView, StreamView

SHOWN = 5


@dataclass(frozen=True, slots=True)
class Violation:
    child: ShardView
    parent: ShardView

    def __str__(self) -> str:
        return (
            f"shard {self.child.shard_id} starts at {self.child.start}, not above the end "
            f"{self.parent.end} of its parent {self.parent.shard_id}"
        )


def violations(shards: tuple[ShardView, ...]) -> tuple[list[Violation], int, int]:
    """The violations, the parent/child pairs compared, and those that could not be (parent open)."""
    by_id = {shard.shard_id: shard for shard in shards}
    found: list[Violation] = []
    compared = open_parents = 0
    for child in shards:
        parent = by_id.get(child.parent_id) if child.parent_id else None
        if parent is None:
            continue  # no parent, or one already trimmed from the stream (24 hours)
        if parent.end is None:
            open_parents += 1
            continue
        compared += 1
        if child.start <= parent.end:
            found.append(Violation(child, parent))
    return found, compared, open_parents


def finding(stream: StreamView | Unreadable | None) -> Finding:
    check = "shard-lineage"
    if stream is None:
        return skipped(check, "the source has no stream (see above)")
    if isinstance(stream, Unreadable):
        return stream.finding(check)
    found, compared, open_parents = violations(stream.shards)
    if found:
        more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
        return failed(
            check,
            "; ".join(str(v) for v in found[:SHOWN]) + more,
            "sequence numbers do not grow across these splits, which the version scheme assumes "
            "(docs/design.md, 'Stream guarantees relied on'): run `check` after every repair or "
            "backfill, and report the stream ARN and shard ids to AWS support",
        )
    unsure = f"; {open_parents} parent(s) still open, not compared" if open_parents else ""
    if not compared:
        return passed(
            check, f"{len(stream.shards)} shard(s), no split in the stream's 24 hours to compare{unsure}"
        )
    return passed(
        check,
        f"{compared} split(s) among {len(stream.shards)} shards: every child starts above its parent's end"
        + unsure,
    )
