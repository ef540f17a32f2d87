"""The third-reader guard: before a command reads the stream itself (``redrive``,
``python -m localrun run``), count the event source mappings already reading it, by the doctor's
rule (:mod:`.readers`), and say whether the command would be one reader too many.

A count that cannot be read (no ``lambda:ListEventSourceMappings``, an endpoint without Lambda)
never blocks: the command goes on with a warning, as it did before the guard existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from replicator.cli.doctor.attempt import Attempt
from replicator.cli.doctor.findings import Unreadable
from replicator.cli.doctor.gather import read_budget
from replicator.cli.sides import Side

GET_RECORDS_PER_SECOND_AS_THIRD_READER = 1.0
"""How fast a command that was allowed to be a third reader calls GetRecords: Lambda polls each
shard four times a second per mapping; one call a second leaves most of the shard's reads to them."""


@dataclass(frozen=True, slots=True)
class ReaderVerdict:
    refusal: str | None = None
    """Why the command would be one reader too many (None: there is room)."""
    warning: str | None = None
    """Why the readers could not be counted (the command goes on)."""

    @property
    def third_reader(self) -> bool:
        return self.refusal is not None


def check_readers(side: Side, dynamodb: Any, lambda_: Any, *, who: str, adding: int = 1) -> ReaderVerdict:
    """Whether ``who``, adding ``adding`` readers to ``side``'s table's stream, fits the two-reader limit."""
    budget = read_budget(Attempt(side), dynamodb, lambda_, side.table)
    if isinstance(budget, Unreadable):
        return ReaderVerdict(
            warning=f"could not count the readers of the stream: could not read {budget.what} "
            f"({budget.code}; needs {budget.permission}). If two event source mappings read it, {who} is "
            "a third reader and throttles them all"
        )
    if budget is None:
        return ReaderVerdict()
    return ReaderVerdict(refusal=budget.refusal(adding, who))
