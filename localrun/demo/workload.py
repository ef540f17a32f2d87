"""The article's mobile app as a workload: users of several platforms writing to the source table.

:class:`WorkloadModel` decides each write (pure, seeded: the same seed gives the same sequence of
operations and values, whatever the clock says); :class:`Workload` paces and sends them. The mix has
inserts, updates of several attributes at once (tracked ones such as plan, country and app_version,
and untracked ones), deletes, and short-lived items whose TTL runs out during the run.
"""

from __future__ import annotations

import enum
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deployconfig.config import DeploymentConfig
from localrun.demo.writes import Pacer, require_generated_keys, send

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PLANS = ("free", "plus", "pro")
COUNTRIES = ("US", "DE", "FR", "BR", "IN", "JP", "NG", "GB")
APP_VERSIONS = ("4.1.0", "4.1.1", "4.2.0", "4.3.0", "5.0.0")
DEVICES = ("pixel-8", "iphone-15", "galaxy-s24", "browser")
OTHER_PLATFORM = "kaios"  # a platform outside the configured segments: counted as "other"
LONG_TTL_SECONDS = 30 * 86_400


class Op(enum.StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    TTL_INSERT = "ttl-insert"


@dataclass(frozen=True, slots=True)
class Mix:
    """Relative weights of the operations."""

    insert: float = 0.40
    update: float = 0.35
    delete: float = 0.10
    ttl_insert: float = 0.15


@dataclass(frozen=True, slots=True)
class WorkloadSettings:
    users: int = 50
    writes_per_second: float = 20.0
    seed: int = 7
    mix: Mix = field(default_factory=Mix)
    ttl_seconds: tuple[float, float] = (2.0, 8.0)
    """Lifetime range of short-lived items."""


@dataclass(frozen=True, slots=True)
class Write:
    """One request to the source table, in boto3 client form."""

    op: Op
    key: dict[str, Any]
    item: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    """UpdateExpression plus its names and values."""


class WorkloadModel:
    """Which write comes next, given a seed and the current time (used for keys and timestamps)."""

    def __init__(self, cfg: DeploymentConfig, settings: WorkloadSettings) -> None:
        require_generated_keys(cfg, "workload")
        self._cfg = cfg
        self._settings = settings
        self._rng = random.Random(settings.seed)  # noqa: S311 (a workload, not cryptography)
        segments = cfg.segment_values or ("web",)
        # Platforms are spread evenly (every segment appears as soon as there are enough users),
        # and one user in twenty is on a platform outside the segments ("other" on dashboards).
        self._platform = [
            OTHER_PLATFORM if user % 20 == 19 else segments[user % len(segments)]
            for user in range(settings.users)
        ]
        self._live: list[dict[str, Any]] = []
        self._last_ms = 0
        mix = settings.mix
        self._ops = (Op.INSERT, Op.UPDATE, Op.DELETE, Op.TTL_INSERT)
        self._weights = (mix.insert, mix.update, mix.delete, mix.ttl_insert)

    def _key(self, user: int, now: float) -> dict[str, Any]:
        # Sort keys are unique milliseconds: two writes in the same millisecond get consecutive ones.
        self._last_ms = max(self._last_ms + 1, int(now * 1000))
        key: dict[str, Any] = {self._cfg.partition_key.name: {"S": f"user-{user:05d}"}}
        if self._cfg.sort_key is not None:
            key[self._cfg.sort_key.name] = {"N": str(self._last_ms)}
        return key

    def _item(self, user: int, key: dict[str, Any], expires_at: float) -> dict[str, Any]:
        rng = self._rng
        item = dict(key)
        if self._cfg.segment_attribute:
            item[self._cfg.segment_attribute] = {"S": self._platform[user]}
        item.update(
            plan={"S": rng.choice(PLANS)},
            country={"S": rng.choice(COUNTRIES)},
            app_version={"S": rng.choice(APP_VERSIONS)},
            device_model={"S": rng.choice(DEVICES)},
            session_count={"N": str(rng.randint(1, 500))},
            lifetime_value={"N": f"{rng.randint(0, 10**12)}.{rng.randint(0, 99):02d}"},
            settings={
                "M": {"theme": {"S": rng.choice(("dark", "light"))}, "push": {"BOOL": rng.random() < 0.5}}
            },
            tags={"SS": sorted({rng.choice(("beta", "vip", "churn-risk", "new")) for _ in range(2)})},
            avatar_sha={"B": rng.randbytes(16)},
        )
        if self._cfg.ttl_attribute:
            item[self._cfg.ttl_attribute] = {"N": str(int(expires_at))}
        return item

    def _update(self, now: float) -> dict[str, Any]:
        rng = self._rng
        # Every name goes through a placeholder: "plan", "country" and others are reserved words.
        sets = ["#last_seen = :now", "#session_count = #session_count + :one"]
        removes: list[str] = []
        values: dict[str, Any] = {":now": {"N": str(int(now))}, ":one": {"N": "1"}}
        if rng.random() < 0.4:
            sets.append("#plan = :plan")
            values[":plan"] = {"S": rng.choice(PLANS)}
        if rng.random() < 0.25:
            sets.append("#app_version = :app_version")
            values[":app_version"] = {"S": rng.choice(APP_VERSIONS)}
        roll = rng.random()
        if roll < 0.1:
            removes.append("#country")
        elif roll < 0.35:
            sets.append("#country = :country")
            values[":country"] = {"S": rng.choice(COUNTRIES)}
        if rng.random() < 0.1:
            removes.append("#device_model")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        names = {f"#{name}": name for name in re.findall(r"#(\w+)", expression)}
        return {
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def next_write(self, now: float) -> Write:
        rng = self._rng
        op = rng.choices(self._ops, self._weights)[0]
        if op in (Op.UPDATE, Op.DELETE) and not self._live:
            op = Op.INSERT
        if op is Op.UPDATE:
            return Write(op, dict(rng.choice(self._live)), update=self._update(now))
        if op is Op.DELETE:
            index = rng.randrange(len(self._live))
            self._live[index], self._live[-1] = self._live[-1], self._live[index]
            return Write(op, self._live.pop())
        user = rng.randrange(self._settings.users)
        key = self._key(user, now)
        if op is Op.TTL_INSERT:
            low, high = self._settings.ttl_seconds
            # Short-lived items are left alone until the TTL process removes them.
            return Write(op, key, item=self._item(user, key, now + rng.uniform(low, high)))
        self._live.append(key)
        return Write(op, key, item=self._item(user, key, now + LONG_TTL_SECONDS))


def user_of(write: Write, attribute: str) -> str | None:
    """The user a write belongs to, as the usage consumer finds it (the item, else the key)."""
    for image in (write.item, write.key):
        if image is not None and attribute in image:
            return json.dumps(image[attribute], sort_keys=True, default=repr)
    return None


class Workload:
    """Sends the model's writes at a steady rate until the duration ends or ``stop`` is set."""

    def __init__(
        self,
        client: DynamoDBClient,
        cfg: DeploymentConfig,
        settings: WorkloadSettings,
        *,
        before_write: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = cfg.table_name
        self._user_attribute = cfg.user_id_attribute
        self._model = WorkloadModel(cfg, settings)
        self._rate = settings.writes_per_second
        self._before_write = before_write
        self._clock = clock
        self.counts: Counter[Op] = Counter()
        self.active: dict[int, set[str]] = {}
        """Ground truth of the usage figures: the users who changed an item, by minute since the
        epoch (every write is a user's change; TTL expiries, made by the sweeper, are not)."""

    def apply(self, write: Write) -> None:
        send(self._client, self._table, write)
        self.counts[write.op] += 1
        user = user_of(write, self._user_attribute)
        if user is not None:
            self.active.setdefault(int(self._clock() // 60), set()).add(user)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def run(self, duration: float, stop: threading.Event) -> int:
        """Write for ``duration`` seconds; returns the number of writes made."""
        start = self._clock()
        pacer = Pacer(self._rate, self._clock)
        while not stop.is_set():
            now = self._clock()
            if now - start >= duration:
                break
            pause = pacer.due_in()
            if pause > 0:
                stop.wait(min(pause, 0.5))
                continue
            if self._before_write is not None:
                self._before_write(now)
            self.apply(self._model.next_write(now))
            pacer.sent()
        return self.total
