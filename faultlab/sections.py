"""Generated sections of a Markdown page: the text between a pair of HTML-comment markers.

``make soak`` and ``make mutate`` each own one section of docs/reliability.md and rewrite only it.
"""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, section: str, *, begin: str, end: str) -> None:
    """Replace the text between ``begin`` and ``end`` in ``path`` (appended when the markers are absent)."""
    text = path.read_text() if path.exists() else ""
    block = f"{begin}\n{section}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = (text.rstrip() + "\n\n" if text else "") + block + "\n"
    path.write_text(text)
