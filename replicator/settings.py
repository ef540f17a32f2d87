"""Replicator settings, read once from the environment into a frozen value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ddbstream.names import is_endpoint_url, is_region, is_role_arn, is_table_name
from replicator.core.errors import ConfigurationError
from replicator.core.policy import TTL_POLICY_CHOICES, TtlPolicy
from replicator.core.schema import (
    DEFAULT_TOMBSTONE_RETENTION_HOURS,
    MAX_TOMBSTONE_RETENTION_HOURS,
    MIN_TOMBSTONE_RETENTION_HOURS,
    VERSION_ATTRIBUTE,
    default_state_table,
)
from replicator.core.view import never_replicated
from telemetry.catalogue import DEFAULT_REPLICATION_NAMESPACE


@dataclass(frozen=True, slots=True)
class Settings:
    replica_table: str
    replica_region: str
    state_table: str
    endpoint_url: str | None = None
    role_arn: str | None = None
    ttl_policy: TtlPolicy = TtlPolicy.REPLICATE
    exclude_attributes: frozenset[str] = frozenset()
    tombstone_retention_hours: int = DEFAULT_TOMBSTONE_RETENTION_HOURS
    max_concurrent_writes: int = 64
    metrics_namespace: str = DEFAULT_REPLICATION_NAMESPACE

    def __post_init__(self) -> None:
        # Checked here as well as in from_environ: a Settings built by hand (the CLI's redrive, a
        # test) must not skip the minimum that protects against resurrection.
        _in_range("TOMBSTONE_RETENTION_HOURS", self.tombstone_retention_hours, *_RETENTION_HOURS)
        _in_range("MAX_CONCURRENT_WRITES", self.max_concurrent_writes, *_CONCURRENT_WRITES)


_RETENTION_HOURS = (MIN_TOMBSTONE_RETENTION_HOURS, MAX_TOMBSTONE_RETENTION_HOURS)
_CONCURRENT_WRITES = (1, 512)


def _in_range(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}; got {value}")
    return value


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is required and is not set")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(
            f"{name} must be a whole number between {low} and {high}; got {raw!r}"
        ) from None
    return _in_range(name, value, low, high)


def _table(env: Mapping[str, str], name: str, value: str) -> str:
    if not is_table_name(value):
        raise ConfigurationError(
            f"{name} must be a DynamoDB table name (3-255 letters, digits, '_', '-', '.'); got {value!r}"
        )
    return value


def from_environ(env: Mapping[str, str]) -> Settings:
    """Validate the replicator's environment variables; errors name the variable and the expected form."""
    table = _table(env, "REPLICA_TABLE_NAME", _required(env, "REPLICA_TABLE_NAME"))
    region = _required(env, "REPLICA_REGION")
    if not is_region(region):
        raise ConfigurationError(f"REPLICA_REGION must be an AWS region such as eu-west-1; got {region!r}")
    endpoint = env.get("REPLICA_ENDPOINT_URL", "").strip() or None
    if endpoint and not is_endpoint_url(endpoint):
        raise ConfigurationError(f"REPLICA_ENDPOINT_URL must be an http(s) URL; got {endpoint!r}")
    role = env.get("REPLICA_ROLE_ARN", "").strip() or None
    if role and not is_role_arn(role):
        raise ConfigurationError(
            f"REPLICA_ROLE_ARN must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME); got {role!r}"
        )
    policy_text = env.get("TTL_DELETES", "").strip().lower() or TtlPolicy.REPLICATE.value
    try:
        policy = TtlPolicy(policy_text)
    except ValueError:
        raise ConfigurationError(f"TTL_DELETES must be {TTL_POLICY_CHOICES}; got {policy_text!r}") from None
    excluded = frozenset(
        part.strip() for part in env.get("EXCLUDE_ATTRIBUTES", "").split(",") if part.strip()
    )
    if never_replicated(excluded):
        raise ConfigurationError(
            f"EXCLUDE_ATTRIBUTES must not name {VERSION_ATTRIBUTE!r} or aws:rep:* attributes (never copied)"
        )
    state = _table(
        env, "STATE_TABLE_NAME", env.get("STATE_TABLE_NAME", "").strip() or default_state_table(table)
    )
    return Settings(
        replica_table=table,
        replica_region=region,
        state_table=state,
        endpoint_url=endpoint,
        role_arn=role,
        ttl_policy=policy,
        exclude_attributes=excluded,
        tombstone_retention_hours=_integer(
            env, "TOMBSTONE_RETENTION_HOURS", DEFAULT_TOMBSTONE_RETENTION_HOURS, *_RETENTION_HOURS
        ),
        max_concurrent_writes=_integer(env, "MAX_CONCURRENT_WRITES", 64, *_CONCURRENT_WRITES),
        metrics_namespace=env.get("METRICS_NAMESPACE", "").strip() or DEFAULT_REPLICATION_NAMESPACE,
    )
