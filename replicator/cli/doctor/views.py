"""Typed views of what AWS describes, parsed once from the answers (pure: no client here).

Each view holds only what a rule reads, never an item. ``from_*`` builds a view from the answer of
one describe call, as boto3 returns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"
_TTL_ON = ("ENABLED", "ENABLING")


@dataclass(frozen=True, slots=True)
class TableView:
    name: str
    arn: str
    status: str
    keys: tuple[tuple[str, str], ...]
    """(name, type) of the partition key, then the sort key."""
    stream_enabled: bool
    stream_view_type: str | None
    stream_arn: str | None
    global_table: bool
    """The table has global-table replicas (their replication is a reader of its stream)."""

    @classmethod
    def from_description(cls, table: Mapping[str, Any]) -> TableView:
        types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
        ordered = sorted(table.get("KeySchema", []), key=lambda k: k["KeyType"] != "HASH")
        spec = table.get("StreamSpecification") or {}
        return cls(
            name=str(table.get("TableName", "")),
            arn=str(table.get("TableArn", "")),
            status=str(table.get("TableStatus", "")),
            keys=tuple((k["AttributeName"], types.get(k["AttributeName"], "?")) for k in ordered),
            stream_enabled=bool(spec.get("StreamEnabled")),
            stream_view_type=spec.get("StreamViewType"),
            stream_arn=table.get("LatestStreamArn") if spec.get("StreamEnabled") else None,
            global_table=bool(table.get("Replicas")),
        )


def keys_text(keys: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name} ({kind})" for name, kind in keys) or "none"


@dataclass(frozen=True, slots=True)
class TtlView:
    status: str
    attribute: str | None

    @property
    def on(self) -> bool:
        return self.status in _TTL_ON

    @property
    def attribute_if_on(self) -> str | None:
        return self.attribute if self.on else None

    @classmethod
    def from_description(cls, ttl: Mapping[str, Any]) -> TtlView:
        return cls(str(ttl.get("TimeToLiveStatus", "DISABLED")), ttl.get("AttributeName") or None)


@dataclass(frozen=True, slots=True)
class PitrView:
    status: str

    @property
    def on(self) -> bool:
        return self.status == "ENABLED"

    @classmethod
    def from_description(cls, backups: Mapping[str, Any]) -> PitrView:
        pitr = backups.get("PointInTimeRecoveryDescription") or {}
        return cls(str(pitr.get("PointInTimeRecoveryStatus", "DISABLED")))


@dataclass(frozen=True, slots=True)
class ShardView:
    shard_id: str
    parent_id: str | None
    start: int
    end: int | None
    """None while the shard is open."""

    @classmethod
    def from_description(cls, shard: Mapping[str, Any]) -> ShardView:
        numbers = shard.get("SequenceNumberRange") or {}
        end = numbers.get("EndingSequenceNumber")
        return cls(
            shard_id=str(shard["ShardId"]),
            parent_id=shard.get("ParentShardId") or None,
            start=int(numbers["StartingSequenceNumber"]),
            end=int(end) if end is not None else None,
        )


@dataclass(frozen=True, slots=True)
class StreamView:
    arn: str
    status: str
    view_type: str | None
    shards: tuple[ShardView, ...]


@dataclass(frozen=True, slots=True)
class MappingView:
    """One Lambda event source mapping on the stream."""

    uuid: str
    function_arn: str
    state: str
    destination: str | None
    """The on-failure destination's ARN (an SQS queue or an SNS topic), if any."""
    response_types: tuple[str, ...] = ()
    bisect: bool = False

    @property
    def function_name(self) -> str:
        # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        parts = self.function_arn.split(":")
        return parts[6] if len(parts) > 6 else self.function_arn

    @classmethod
    def from_description(cls, mapping: Mapping[str, Any]) -> MappingView:
        destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        return cls(
            uuid=str(mapping.get("UUID", "")),
            function_arn=str(mapping.get("FunctionArn", "")),
            state=str(mapping.get("State", "")),
            destination=destination or None,
            response_types=tuple(mapping.get("FunctionResponseTypes") or ()),
            bisect=bool(mapping.get("BisectBatchOnFunctionError")),
        )


@dataclass(frozen=True, slots=True)
class FunctionView:
    name: str
    arn: str
    role: str
    handler: str
    environment: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_configuration(cls, config: Mapping[str, Any]) -> FunctionView:
        variables = (config.get("Environment") or {}).get("Variables") or {}
        return cls(
            name=str(config.get("FunctionName", "")),
            arn=str(config.get("FunctionArn", "")),
            role=str(config.get("Role", "")),
            handler=str(config.get("Handler", "")),
            environment={str(k): str(v) for k, v in variables.items()},
        )


@dataclass(frozen=True, slots=True)
class QueueView:
    name: str
    visible: int
    in_flight: int
    delayed: int

    @property
    def depth(self) -> int:
        return self.visible + self.in_flight + self.delayed

    @classmethod
    def from_attributes(cls, name: str, attributes: Mapping[str, str]) -> QueueView:
        def count(key: str) -> int:
            return int(attributes.get(f"ApproximateNumberOf{key}", 0))

        return cls(name, count("Messages"), count("MessagesNotVisible"), count("MessagesDelayed"))


@dataclass(frozen=True, slots=True)
class ClockView:
    """The service's clock (its Date header, whole seconds) and ours when the answer arrived."""

    server: float
    local: float
    round_trip: float

    @property
    def skew(self) -> float:
        """Seconds our clock is ahead of the service's (negative: behind).

        The Date header is truncated to the second, so the service's time was in [server, server+1)
        when it answered, some time within the round trip: the middle of both is the best guess.
        """
        return (self.local - self.round_trip / 2) - (self.server + 0.5)


@dataclass(frozen=True, slots=True)
class Decision:
    action: str
    resource: str
    decision: str
    """``allowed``, ``implicitDeny`` or ``explicitDeny``."""

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


@dataclass(frozen=True, slots=True)
class SimulationView:
    roles: tuple[str, ...]
    """The roles simulated: the replicator's, and REPLICA_ROLE_ARN's when it writes through one."""
    decisions: tuple[Decision, ...]
