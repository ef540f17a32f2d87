"""What a soak run found, and its section of docs/reliability.md (between the soak markers)."""

from __future__ import annotations

import datetime as dt
import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faultlab import sections
from faultlab.faults import FaultKind
from faultlab.poison import STAYS_POISON
from faultlab.sequenced import SequencedModel

if TYPE_CHECKING:
    from faultlab.operator import CliRun
    from faultlab.poison import Poison
    from faultlab.rig import FaultRig
    from faultlab.soak import SoakOptions

BEGIN = "<!-- soak:begin (written by make soak) -->"
END = "<!-- soak:end -->"


@dataclass(frozen=True, slots=True)
class Window:
    kind: str
    start: float
    end: float


@dataclass
class SoakResult:
    seed: int
    writes: int
    ops: Counter[str]
    poisoned: Counter[str]
    faults: Counter[str]
    windows: Counter[str]
    invocations: dict[str, tuple[int, int]]
    """Per function: invocations, of which failed."""
    messages: int
    message_records: int
    redrive_exit_code: int
    redriven: tuple[int, int, int]
    """Messages replayed, their records, and how many of those messages were applied and deleted."""
    kept: tuple[int, Counter[str]]
    """Messages kept after redrive, and the error classes they were kept with."""
    problems: dict[str, list[str]]
    seconds: float
    workload_seconds: float
    peak_rss_mb: float
    duration: float
    keys: int
    accepted_writes: int
    unreplicable: int = 0

    @property
    def passed(self) -> bool:
        return not any(self.problems.values())

    @classmethod
    def collect(
        cls,
        rig: FaultRig,
        model: SequencedModel,
        *,
        options: SoakOptions,
        poisoned: Sequence[Poison],
        windows: Sequence[Window],
        queued: Sequence[dict[str, Any]],
        redrive: CliRun,
        problems: dict[str, list[str]],
        seconds: float,
        workload_seconds: float,
        peak_rss_mb: float,
    ) -> SoakResult:
        # The fault layer's own crash count includes the crashes that start a function timeout; the
        # sandbox counts each kind once (crash: the runtime exited; function-timeout: it hung).
        faults: Counter[str] = Counter(
            {str(kind): n for kind, n in rig.injector.injected.items() if kind != FaultKind.CRASH}
        )
        faults.update({str(kind): n for kind, n in rig.sandbox.counts.items()})
        faults.update({f"usage-metrics {kind}": n for kind, n in rig.metrics_sandbox.counts.items()})
        entries = (redrive.document or {}).get("messages", [])
        applied = [e for e in entries if e.get("verdict") == "applied"]
        kept = [e for e in entries if e.get("verdict") != "applied"]
        classes: Counter[str] = Counter()
        for entry in kept:
            classes.update(entry.get("errors", {}))
        invocations = {
            name: (len(seen), sum(1 for s in seen if s.failed))
            for name, seen in (
                ("replicator", rig.replicator_invocations()),
                ("usage metrics", rig.metrics_invocations()),
            )
        }
        return cls(
            seed=options.seed,
            writes=model.writes,
            ops=Counter({str(op): n for op, n in model.counts.items()}),
            poisoned=Counter(str(kind) for kind in poisoned),
            faults=faults,
            windows=Counter(window.kind for window in windows),
            invocations=invocations,
            messages=len(queued),
            message_records=sum(int(m["DDBStreamBatchInfo"]["batchSize"]) for m in queued),
            redrive_exit_code=redrive.code,
            redriven=(len(entries), sum(int(e.get("records", 0)) for e in entries), len(applied)),
            kept=(len(kept), classes),
            problems=problems,
            seconds=seconds,
            workload_seconds=workload_seconds,
            peak_rss_mb=peak_rss_mb,
            duration=options.duration,
            keys=options.keys,
            accepted_writes=len(rig.ledger.writes()),
            unreplicable=sum(1 for kind in poisoned if kind in STAYS_POISON),
        )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in sorted(counter.items())) or "none"


def render(result: SoakResult, *, command: str) -> str:
    """The Markdown section (without the markers) describing one soak run."""
    differences = sum(len(found) for found in result.problems.values())
    validators = "\n".join(
        f"| {name} | {'pass' if not found else f'**{len(found)} problem(s)**'} |"
        for name, found in result.problems.items()
    )
    shown = [f"- {name}: {p}" for name, found in result.problems.items() for p in found[:5]]
    rows = [
        ("command", f"`{command}`"),
        (
            "when",
            dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") + f", Python {platform.python_version()}",
        ),
        ("seed", str(result.seed)),
        (
            "writes",
            f"{result.writes:,} in {result.workload_seconds:.0f} s ({result.duration:g} s planned) on "
            f"{result.keys} keys ({_counts(result.ops)}), "
            f"of which {sum(result.poisoned.values())} poison records ({_counts(result.poisoned)})",
        ),
        ("faults injected, by kind", _counts(result.faults)),
        ("fault windows", _counts(result.windows)),
        (
            "invocations",
            ", ".join(
                f"{name} {n:,} ({failed:,} failed)" for name, (n, failed) in result.invocations.items()
            ),
        ),
        ("writes the replica accepted", f"{result.accepted_writes:,}"),
        ("failure-queue messages", f"{result.messages:,} ({result.message_records:,} records)"),
        (
            "records redriven",
            f"{result.redriven[1]:,} records of {result.redriven[0]:,} messages replayed; "
            f"{result.redriven[2]:,} messages applied and deleted "
            f"(redrive exit code {result.redrive_exit_code})",
        ),
        (
            "messages kept by redrive",
            f"{result.kept[0]:,}, with error classes: {_counts(result.kept[1])}",
        ),
        ("differences at the end", f"**{differences}**"),
        (
            "unreplicable by design",
            f"{result.unreplicable} poison items, absent from the replica as required",
        ),
        ("time, peak memory", f"{result.seconds:.0f} s in all, {result.peak_rss_mb:,.0f} MB peak RSS"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    text = f"| | |\n|---|---|\n{table}\n\n| validator | result |\n|---|---|\n{validators}\n"
    if shown:
        text += "\nFirst problems:\n\n" + "\n".join(shown) + "\n"
    return text


def write_section(path: Path, section: str) -> None:
    """Replace the text between the soak markers of ``path`` (appended when there are none)."""
    sections.write_section(path, section, begin=BEGIN, end=END)
