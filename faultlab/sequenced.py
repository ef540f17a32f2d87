"""A seeded workload of per-key sequence-numbered writes, with its own ground truth.

Every write of key K sets ``seq`` to K's own counter (1, 2, 3, ...), whatever the operation: an
insert, an update of a few attributes (some set, some removed), a whole-item replace, or a delete
(which uses up a number too). So the validators can tell, for every state the replica held,
which write of its key it was, and :meth:`SequencedModel.expected` is the exact final state of
every key, kept by the model itself (Jepsen-style: the checker knows what was written without
asking the database).

Each write makes exactly one stream record: updates always change ``seq``, deletes only hit live
items, so the number of writes is also the number of changes the usage metrics must count.
"""

from __future__ import annotations

import enum
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddbstream import key_id, primary_key
from deployconfig.config import DeploymentConfig
from localrun.demo.writes import Pacer, require_generated_keys, send

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
Decorate = Callable[[str, int, random.Random], Item]
"""Extra attributes for a key's write number ``seq`` (awkward data, privacy sentinels)."""

PLATFORMS = ("ios", "android", "web")


class SeqOp(enum.StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class SequencedSettings:
    keys: int = 20
    seed: int = 1
    update: float = 0.45
    replace: float = 0.2
    delete: float = 0.15
    """Weights for live keys; an absent key is always inserted."""
    key_prefix: str = "k"


@dataclass(frozen=True, slots=True)
class SeqWrite:
    op: SeqOp
    key: Item
    seq: int
    item: Item | None = None
    """The whole new item (insert, replace), or the state after an update."""
    update: Mapping[str, Any] | None = None


class SequencedModel:
    """Decides each write (pure, seeded) and keeps what every key must hold afterwards."""

    def __init__(
        self, cfg: DeploymentConfig, settings: SequencedSettings, *, decorate: Decorate | None = None
    ) -> None:
        require_generated_keys(cfg, "sequenced workload")
        self._cfg = cfg
        self._settings = settings
        self._decorate = decorate
        self._rng = random.Random(settings.seed)  # noqa: S311 (a workload, not cryptography)
        self._counters: Counter[str] = Counter()
        self._state: dict[str, Item | None] = {}
        self.key_names = (cfg.partition_key.name, *([cfg.sort_key.name] if cfg.sort_key else []))
        self.writes = 0
        self.counts: Counter[SeqOp] = Counter()

    def key(self, index: int) -> Item:
        key: Item = {self._cfg.partition_key.name: {"S": f"{self._settings.key_prefix}-{index:04d}"}}
        if self._cfg.sort_key is not None:
            key[self._cfg.sort_key.name] = {"N": str(1_700_000_000 + index)}
        return key

    def _item(self, key: Item, name: str, seq: int) -> Item:
        rng = self._rng
        item: Item = {
            **key,
            "seq": {"N": str(seq)},
            "v": {"N": str(rng.randint(0, 10**6))},
            "note": {"S": rng.choice(("alpha", "beta", "gamma"))},
        }
        if self._cfg.segment_attribute:
            item[self._cfg.segment_attribute] = {"S": rng.choice(PLATFORMS)}
        if self._decorate is not None:
            item.update(self._decorate(name, seq, rng))
        return item

    def next_write(self) -> SeqWrite:
        rng, settings = self._rng, self._settings
        index = rng.randrange(settings.keys)
        key = self.key(index)
        name = key_id(key)
        self._counters[name] += 1
        seq = self._counters[name]
        current = self._state.get(name)
        if current is None:
            op = SeqOp.INSERT
        else:
            ops = (SeqOp.UPDATE, SeqOp.REPLACE, SeqOp.DELETE)
            op = rng.choices(ops, (settings.update, settings.replace, settings.delete))[0]
        write = self._write(op, key, name, seq, current)
        self._state[name] = write.item
        self.writes += 1
        self.counts[op] += 1
        return write

    def _write(self, op: SeqOp, key: Item, name: str, seq: int, current: Item | None) -> SeqWrite:
        if op is SeqOp.DELETE:
            return SeqWrite(op, key, seq)
        if op is not SeqOp.UPDATE or current is None:
            return SeqWrite(op, key, seq, item=self._item(key, name, seq))
        after = dict(current)
        values = {":seq": {"N": str(seq)}, ":v": {"N": str(self._rng.randint(0, 10**6))}}
        after.update(seq=values[":seq"], v=values[":v"])
        expression = "SET #seq = :seq, #v = :v"
        names = {"#seq": "seq", "#v": "v"}
        if "note" in after and self._rng.random() < 0.3:
            expression += " REMOVE #note"
            names["#note"] = "note"
            del after["note"]
        update = {
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        return SeqWrite(op, key, seq, item=after, update=update)

    def external(self, item: Item) -> None:
        """Account for a write made outside the model (a poison record): one more change."""
        self._state[key_id(primary_key(item, self.key_names))] = item
        self.writes += 1

    def expected(self) -> dict[str, Item]:
        """The live items every key must hold now (key text -> item, boto3 client form)."""
        return {name: item for name, item in self._state.items() if item is not None}

    def sequences(self) -> dict[str, int]:
        """Per key, the number of its latest write."""
        return dict(self._counters)


class SequencedWorkload:
    """Sends the model's writes to the source table, paced or as fast as the endpoint allows."""

    def __init__(self, client: DynamoDBClient, table: str, model: SequencedModel) -> None:
        self._client = client
        self._table = table
        self.model = model

    def apply(self, write: SeqWrite) -> None:
        send(self._client, self._table, write)

    def put(self, item: Item) -> None:
        """An extra write outside the model (poison records); counted as a user change."""
        self._client.put_item(TableName=self._table, Item=item)
        self.model.external(item)

    def run(
        self,
        writes: int,
        *,
        rate: float | None = None,
        stop: threading.Event | None = None,
        before_write: Callable[[int], None] | None = None,
    ) -> int:
        """Make ``writes`` writes (``rate`` per second, or flat out); returns how many were made."""
        pacer = Pacer(rate)
        done = 0
        while done < writes and not (stop is not None and stop.is_set()):
            pause = pacer.due_in()
            if pause > 0:
                time.sleep(pause)
            if before_write is not None:
                before_write(done)
            self.apply(self.model.next_write())
            done += 1
            pacer.sent()
        return done
