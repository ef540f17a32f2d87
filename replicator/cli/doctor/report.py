"""What the doctor prints and writes to ``--json``: pure formatting of its findings."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any

from replicator.cli.doctor.findings import ALL_PASS, FAILED, Finding, Status

_WIDTH = 110
_LABEL = 24
_VERDICT = {
    0: "no failure found",
    1: "the setup has a problem: fix what FAIL says (exit 1)",
}


def _wrapped(first: str, text: str) -> list[str]:
    indent = " " * (_LABEL + 8)
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [first.rstrip()]


def counts(findings: Sequence[Finding]) -> Counter[str]:
    return Counter(f.status.value for f in findings)


def summary(findings: Sequence[Finding], code: int, *, strict: bool) -> str:
    tally = counts(findings)
    parts = [f"{tally[s.value]} {s.value}" for s in Status if tally[s.value]]
    verdict = _VERDICT.get(code, "")
    if code == FAILED and not tally[Status.FAIL.value]:
        verdict = "warnings count as failures with --strict (exit 1)"
    elif code == ALL_PASS and tally[Status.WARN.value]:
        verdict += "; the warnings are not proven fine (--strict makes them fail)"
    return f"Result: {', '.join(parts)}: {verdict}"


def lines(title: str, findings: Sequence[Finding], code: int, *, strict: bool) -> list[str]:
    out = [title]
    for f in findings:
        out += _wrapped(f"  {f.status.value.upper():<4}  {f.check:<{_LABEL}}", f.reason)
        if f.fix and f.status is not Status.PASS:
            out += _wrapped(" " * (_LABEL + 8) + "fix: ", f.fix)
    out.append(summary(findings, code, strict=strict))
    return out


def document(source: str, replica: str, findings: Sequence[Finding], code: int) -> dict[str, Any]:
    return {
        "source": source,
        "replica": replica,
        "exitCode": code,
        "counts": dict(counts(findings)),
        "findings": [
            {"check": f.check, "status": f.status.value, "reason": f.reason, "fix": f.fix} for f in findings
        ],
    }
