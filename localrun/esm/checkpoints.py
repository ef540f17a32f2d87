"""Per-shard checkpoints: the last sequence number a mapping has finished with, and finished shards.

Virtual shards (``lineage.py``) have entries of their own, and a split virtual shard keeps the
sequence number it was split after (``splitAfter``), so a restarted runner rebuilds the same layout.

Kept in memory, and optionally in a JSON file (rewritten atomically on every change), so that a
restarted runner resumes after the last checkpoint, as Lambda does after a redeploy.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

_VERSION = 1


class CheckpointStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, dict[str, Any]]] = {}
        if path is not None and path.exists():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if loaded.get("version") != _VERSION:
                raise ValueError(f"{path}: unknown checkpoint file version {loaded.get('version')!r}")
            self._data = loaded.get("mappings", {})

    def position(self, mapping: str, shard_id: str) -> str | None:
        """The sequence number to resume after, or ``None`` for a shard never checkpointed."""
        with self._lock:
            entry = self._data.get(mapping, {}).get(shard_id, {})
            value = entry.get("sequenceNumber")
            return value if isinstance(value, str) else None

    def finished(self, mapping: str, shard_id: str) -> bool:
        with self._lock:
            return bool(self._data.get(mapping, {}).get(shard_id, {}).get("finished"))

    def finished_shards(self, mapping: str) -> set[str]:
        with self._lock:
            return {shard for shard, entry in self._data.get(mapping, {}).items() if entry.get("finished")}

    def advance(self, mapping: str, shard_id: str, sequence_number: str) -> None:
        """Move a shard's checkpoint forward; an older sequence number never moves it back."""
        with self._lock:
            entry = self._data.setdefault(mapping, {}).setdefault(shard_id, {})
            current = entry.get("sequenceNumber")
            if current is not None and int(current) >= int(sequence_number):
                return
            entry["sequenceNumber"] = sequence_number
            self._save()

    def finish(self, mapping: str, shard_id: str) -> None:
        """A closed shard is done: every record processed. Its children may start."""
        with self._lock:
            self._data.setdefault(mapping, {}).setdefault(shard_id, {})["finished"] = True
            self._save()

    def record_split(self, mapping: str, shard_id: str, after: str) -> None:
        """A virtual shard was split: records after sequence number ``after`` belong to its children."""
        with self._lock:
            self._data.setdefault(mapping, {}).setdefault(shard_id, {})["splitAfter"] = after
            self._save()

    def splits(self, mapping: str) -> dict[str, int]:
        """Every recorded split of the mapping: virtual shard id -> the sequence number it ends at."""
        with self._lock:
            return {
                shard: int(entry["splitAfter"])
                for shard, entry in self._data.get(mapping, {}).items()
                if isinstance(entry.get("splitAfter"), str)
            }

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        with self._lock:
            return json.loads(json.dumps(self._data))  # type: ignore[no-any-return]

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"version": _VERSION, "mappings": self._data}, indent=1, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, self.path)
