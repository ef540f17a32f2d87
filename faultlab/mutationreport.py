"""What a mutation run found, and its section of docs/reliability.md (between the mutation markers).

Pure: the results come in as :class:`MutantResult` values (``faultlab.mutation`` reads them from
mutmut's files), the equivalents as the text of ``mutation-equivalents.toml``.

Every surviving mutant must be explained. A survivor is *equivalent* when an entry of the
equivalents file names its module, its function, the line above the change (two ``continue``
lines of one function are told apart by what precedes them), and the exact source line(s) it
changed, before and after. mutmut's own ids (``replicator.core.plan.x_plan_batch__mutmut_7``) are
numbered in the order mutations are generated, so any edit of a function renumbers them; the line
text stays put when code around it moves, and when the line itself changes the entry stops
matching, so the mutant is triaged again instead of being waved through on an old reason.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BEGIN = "<!-- mutation:begin (written by make mutate) -->"
END = "<!-- mutation:end -->"

DETECTED = frozenset({"killed", "timeout", "caught by type check"})
"""A test run failed, timed out or the mutant did not type-check: the tests tell it apart."""
UNDETECTED = frozenset({"survived", "no tests"})
"""Every selected test passed, or none reached the mutated function: must be explained."""
IGNORED = frozenset({"skipped"})
# Anything else (not checked, interrupted, suspicious, segfault) means the run did not finish cleanly.

# mutmut names a method's mutants x<sep>Class<sep>method__mutmut_N, a function's x_function__mutmut_N.
_CLASS_SEPARATOR = "ǁ"


@dataclass(frozen=True, slots=True)
class Mutation:
    """A mutant described by what it changed, which survives edits elsewhere in the module."""

    module: str
    """The source file, relative to the repository: ``replicator/core/plan.py``."""
    function: str
    """``plan_batch``, or ``ReplicaWriter._cancelled`` for a method."""
    after: str
    """The nearest non-blank line above the change, stripped (the ``def`` line at the top)."""
    original: str
    """The line(s) the mutation replaced, stripped, one per line."""
    mutated: str


@dataclass(frozen=True, slots=True)
class MutantResult:
    name: str
    """mutmut's id, valid for this run only."""
    module: str
    status: str
    """mutmut's verdict: killed, survived, timeout, no tests, ..."""
    mutation: Mutation | None = None
    """What it changed (read for the mutants that need explaining)."""


@dataclass(frozen=True, slots=True)
class Equivalent:
    mutation: Mutation
    reason: str


@dataclass(frozen=True, slots=True)
class Survivor:
    result: MutantResult
    reason: str | None
    """Why no history can tell it apart, from the equivalents file; None when unexplained."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    command: str
    tool: str
    python: str
    started: dt.datetime
    seconds: float
    cpu_seconds: float
    """The CPU time of mutmut and everything it started: what the run costs on an idle machine."""
    workers: int
    load: tuple[float, float]
    """The 1-minute load average when the run started and when it ended (the cores are shared)."""
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    deselected: tuple[str, ...]
    examples: int
    """The state machine's example count per mutant (CONVERGENCE_EXAMPLES)."""


def function_of(name: str) -> str:
    """The source's name of a mutant's function.

    ``ReplicaWriter._cancelled`` from ``replicator.adapters.writer.xǁReplicaWriterǁ_cancelled__mutmut_3``.
    """
    mangled = name.rpartition("__mutmut_")[0].rpartition(".")[2]
    if mangled.startswith(f"x{_CLASS_SEPARATOR}"):
        _, cls, method = mangled.split(_CLASS_SEPARATOR, 2)
        return f"{cls}.{method}"
    return mangled.removeprefix("x_")


def mutation_from_diff(module: str, function: str, diff: str) -> Mutation:
    """The lines a unified diff of the original and the mutated function removed and added, and the
    nearest unchanged line above them."""
    removed: list[str] = []
    added: list[str] = []
    after = ""
    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            continue
        if line.startswith("-"):
            removed.append(line[1:].strip())
        elif line.startswith("+"):
            added.append(line[1:].strip())
        elif not removed and not added and line.strip():
            after = line.strip()
    return Mutation(module, function, after, "\n".join(removed), "\n".join(added))


def load_equivalents(text: str, *, source: str = "mutation-equivalents.toml") -> list[Equivalent]:
    """The ``[[equivalent]]`` entries of the equivalents file; a malformed entry raises ValueError."""
    document = tomllib.loads(text)
    entries = document.get("equivalent", [])
    fields = ("module", "function", "after", "original", "mutated", "reason")
    equivalents = []
    for number, entry in enumerate(entries, start=1):
        problems = [f for f in fields if not isinstance(entry.get(f), str)]
        problems += [f"unknown key {k!r}" for k in entry if k not in fields]
        if problems:
            raise ValueError(
                f"{source}: [[equivalent]] entry {number} needs string fields {', '.join(fields)}; "
                f"wrong: {', '.join(problems)}"
            )
        mutation = Mutation(
            entry["module"],
            entry["function"],
            entry["after"].strip(),
            entry["original"].strip(),
            entry["mutated"].strip(),
        )
        equivalents.append(Equivalent(mutation, entry["reason"].strip()))
    return equivalents


def survivors(results: Iterable[MutantResult], equivalents: Sequence[Equivalent]) -> list[Survivor]:
    """Every mutant no test detected, with its reason when the equivalents file explains it.

    An entry whose reason is empty or starts with TODO explains nothing (a pasted stub).
    """
    reasons = {
        e.mutation: e.reason for e in equivalents if e.reason and not e.reason.upper().startswith("TODO")
    }
    return [
        Survivor(r, reasons.get(r.mutation) if r.mutation else None)
        for r in sorted(results, key=lambda r: (r.module, _number_order(r.name)))
        if r.status in UNDETECTED
    ]


def _number_order(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def stale(equivalents: Sequence[Equivalent], found: Sequence[Survivor]) -> list[Equivalent]:
    """Entries that matched no survivor: the code or the tests changed; delete or re-key them."""
    seen = {s.result.mutation for s in found}
    return [e for e in equivalents if e.mutation not in seen]


def incomplete(results: Iterable[MutantResult]) -> Counter[str]:
    """Mutants whose verdict is missing or suspicious, by status (empty after a clean full run)."""
    return Counter(r.status for r in results if r.status not in DETECTED | UNDETECTED | IGNORED)


def stub(survivor: Survivor) -> str:
    """A paste-ready ``[[equivalent]]`` entry for an unexplained survivor (its reason still to write)."""
    m = survivor.result.mutation
    assert m is not None
    return (
        "[[equivalent]]\n"
        f"module = {_toml_string(m.module)}\n"
        f"function = {_toml_string(m.function)}\n"
        f"after = {_toml_string(m.after)}\n"
        f"original = {_toml_string(m.original)}\n"
        f"mutated = {_toml_string(m.mutated)}\n"
        'reason = "TODO: why no history can tell it apart"\n'
    )


def _toml_string(text: str) -> str:
    if "\n" not in text and "'" not in text:
        return f"'{text}'"  # a literal string: no escapes, reads like the source line
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _code(text: str) -> str:
    """A table cell holding source text: one code span per line, pipes escaped."""
    if not text:
        return "(nothing)"
    return "<br>".join(f"`{line}`".replace("|", "\\|") for line in text.splitlines())


def _module_rows(results: Sequence[MutantResult], found: Sequence[Survivor]) -> list[str]:
    rows = []
    for module in sorted({r.module for r in results}):
        mine = [r for r in results if r.module == module]
        status = Counter(r.status for r in mine)
        explained = sum(1 for s in found if s.result.module == module and s.reason is not None)
        unexplained = sum(1 for s in found if s.result.module == module and s.reason is None)
        detected = sum(status[s] for s in DETECTED)
        counted = len(mine) - sum(status[s] for s in IGNORED) - explained
        score = f"{100 * detected / counted:.1f} %" if counted else "-"
        rows.append(
            f"| `{module}` | {len(mine)} | {status['killed'] + status['caught by type check']} | "
            f"{status['timeout']} | {explained} | {unexplained} | {score} |"
        )
    return rows


def render(run: RunInfo, results: Sequence[MutantResult], equivalents: Sequence[Equivalent]) -> str:
    """The Markdown section (without the markers) describing one mutation run."""
    found = survivors(results, equivalents)
    status = Counter(r.status for r in results)
    unexplained = [s for s in found if s.reason is None]
    missing = incomplete(results)
    tests = ", ".join(f"`{t}`" for t in run.tests)
    if run.deselected:
        tests += "; not " + ", ".join(f"`{t}`" for t in run.deselected)
    rows = [
        ("command", f"`{run.command}`"),
        ("when", f"{run.started:%Y-%m-%d %H:%M} UTC, Python {run.python}"),
        ("tool", run.tool),
        ("modules", ", ".join(f"`{m}`" for m in run.modules)),
        ("tests", f"{tests}; the state machine with {run.examples} examples, derandomized"),
        (
            "mutants",
            f"{len(results):,} generated: {sum(status[s] for s in DETECTED):,} killed "
            f"({status['caught by type check']:,} by mypy before any test ran, "
            f"{status['timeout']:,} by timeout), {len(found):,} survived "
            f"({len(found) - len(unexplained):,} equivalent, **{len(unexplained):,} unexplained**)"
            + (f", {status['skipped']:,} skipped by pragma" if status["skipped"] else "")
            + (
                ", not finished: " + ", ".join(f"{k} {n:,}" for k, n in sorted(missing.items()))
                if missing
                else ""
            ),
        ),
        (
            "time",
            f"{run.seconds:.0f} s with {run.workers} workers on a shared machine "
            f"(load average {run.load[0]:.1f} at the start, {run.load[1]:.1f} at the end); "
            f"{run.cpu_seconds:.0f} s of CPU",
        ),
    ]
    text = "| | |\n|---|---|\n" + "\n".join(f"| {name} | {value} |" for name, value in rows) + "\n"
    text += (
        "\n| module | mutants | killed | timeout | equivalent | unexplained | score |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(_module_rows(results, found)) + "\n"
    )
    if found:
        text += "\n| # | where | below | original | mutated | verdict |\n|---|---|---|---|---|---|\n"
        for number, survivor in enumerate(found, start=1):
            result, m = survivor.result, survivor.result.mutation
            where = f"`{result.module}`: `{m.function if m else function_of(result.name)}`"
            verdict = (
                f"equivalent: {survivor.reason}"
                if survivor.reason is not None
                else "**UNEXPLAINED**" + (" (no test reaches it)" if result.status == "no tests" else "")
            )
            after, original, mutated = (
                (_code(m.after), _code(m.original), _code(m.mutated)) if m else ("?", "?", "?")
            )
            text += (
                f"| {number} | {where} | {after} | {original} | {mutated} | {verdict.replace('|', '/')} |\n"
            )
    return text
