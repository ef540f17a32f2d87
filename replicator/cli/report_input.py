"""Reading back a check's ``--json`` report (from the scan or the export check) for ``repair --from-report``.

Only the ``differences`` list is used: each entry's ``kind`` and ``key`` (Lambda's event form, binary
as base64), as :func:`replicator.cli.report.difference_entry` writes them. A report whose keys do
not match the tables' key schema is refused whole, before any write. Messages name entries by
their position, never by their key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from replicator.cli.errors import UsageError
from replicator.core.compare import Difference


def parse_differences(document: Any, key_names: Sequence[str], where: str) -> list[Difference]:
    if not isinstance(document, dict) or not isinstance(document.get("differences"), list):
        raise UsageError(f"{where} is not a check report: it has no list of differences")
    wanted = set(key_names)
    out: list[Difference] = []
    for number, entry in enumerate(document["differences"], start=1):
        try:
            difference = Difference.from_event(entry["kind"], entry["key"])
        except (KeyError, TypeError, ValueError):
            raise UsageError(f"{where}: difference {number} has no valid kind and key") from None
        if set(difference.keys) != wanted:
            raise UsageError(
                f"{where}: difference {number}'s key has the attributes {sorted(difference.keys)}, "
                f"not the tables' key {sorted(wanted)}: is it a report of these tables?"
            )
        out.append(difference)
    return out


def load_differences(path: Path, key_names: Sequence[str]) -> list[Difference]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{str(path)!r} is not JSON (line {exc.lineno}): is it a check's --json report?"
        ) from None
    return parse_differences(document, key_names, repr(str(path)))
