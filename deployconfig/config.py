"""One configuration place for the deployment, read from CDK context.

Defaults live in ``cdk.json`` (key ``"context"``); any key can be overridden on the command line
(``npx cdk synth -c sourceRegion=us-west-2``). The local runtime reads the same file, so the
tables ``make demo`` creates have the shape ``cdk deploy`` creates.

This module imports nothing from aws-cdk-lib: it is plain data plus validation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddbstream.names import (
    RoleArn,
    is_account,
    is_kms_key_arn,
    is_region,
    is_role_arn,
    is_stream_arn,
    is_table_name,
    table_name_from_arn,
)
from deployconfig.sizing import MAX_PARALLELIZATION_FACTOR, Sizing, size
from replicator.core.policy import TTL_POLICY_CHOICES, TtlPolicy
from replicator.core.schema import (
    DEFAULT_TOMBSTONE_RETENTION_HOURS,
    MAX_TOMBSTONE_RETENTION_HOURS,
    MIN_TOMBSTONE_RETENTION_HOURS,
    VERSION_ATTRIBUTE,
    default_state_table,
)
from replicator.core.view import never_replicated
from replicator.settings import Settings
from telemetry.dashboards import DashboardContext

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
"""The repository's cdk.json (absent when the package is installed from the wheel)."""

WRITES_IN_FLIGHT = Settings(replica_table="-", replica_region="-", state_table="-").max_concurrent_writes
"""Writes in flight per invocation of the deployed replicator: the deployment sets no
MAX_CONCURRENT_WRITES, so the replicator's default (what the sizing of the mapping assumes)."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_EXPORT_RETENTION_DAYS = 7
"""A week: long enough to re-run a comparison or read its results, short enough that full copies of
the table do not pile up (each export is the table's whole size, at S3 storage prices)."""
DEFAULT_EXPORT_MAX_VCPU = 200
"""About 16 USD an hour at most on arm64 (docs/deployment.md, "The export check's stack"): enough to
compare a billion items within the hour, little enough that a runaway job is not a disaster."""
_KEY_TYPES = ("S", "N", "B")


class ConfigError(ValueError):
    """A context value is missing or invalid; the message names the key and the expected form."""


@dataclass(frozen=True, slots=True)
class KeyAttribute:
    name: str
    type: str  # S | N | B

    @classmethod
    def parse(cls, key: str, text: str) -> KeyAttribute:
        name, _, kind = text.partition(":")
        if not name or kind not in _KEY_TYPES:
            raise ConfigError(
                f"context {key!r} must look like NAME:TYPE with TYPE one of S, N, B; got {text!r}"
            )
        return cls(name, kind)


@dataclass(frozen=True, slots=True)
class DeploymentConfig:
    source_region: str
    replica_region: str
    account: str | None
    table_name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    ttl_attribute: str | None
    replica_table_name: str
    state_table_name: str
    existing_table_name: str | None
    existing_stream_arn: str | None
    existing_table_key_arn: str | None
    existing_replica_table_name: str | None
    """The replica table already exists (kept by ``make destroy``): attach to it, do not create it."""
    existing_state_table_name: str | None
    """The state table already exists (kept by ``make destroy``): attach to it, do not create it."""
    replica_role_arn: str | None
    alarm_email: str | None
    customer_managed_key: bool
    ttl_deletes: str
    exclude_attributes: tuple[str, ...]
    tracked_attributes: tuple[str, ...]
    user_id_attribute: str
    segment_attribute: str | None
    segment_values: tuple[str, ...]
    replication_namespace: str
    usage_namespace: str
    batch_size: int
    batching_window_seconds: int
    parallelization_factor: int
    """The replicator mapping's factor: ``parallelizationFactor`` if set, else ``sizing``'s."""
    sizing: Sizing
    """The round-trip estimate of the region pair and the factor it needs (deployconfig.sizing)."""
    max_retry_attempts: int
    max_record_age_seconds: int
    tumbling_window_seconds: int
    replicator_memory_mb: int
    replicator_timeout_seconds: int
    metrics_memory_mb: int
    metrics_timeout_seconds: int
    log_retention_days: int
    tombstone_retention_hours: int
    alarm_iterator_age_ms: int
    alarm_lag_p99_ms: int
    export_check: bool = False
    """Deploy the optional export-check stack (bucket, EMR Serverless application, job role)."""
    export_retention_days: int = DEFAULT_EXPORT_RETENTION_DAYS
    """Days before the export bucket's lifecycle rule expires exports, results and job logs."""
    export_max_vcpu: int = DEFAULT_EXPORT_MAX_VCPU
    """The EMR Serverless application's ceiling of concurrent vCPUs (memory and disk follow it)."""

    @property
    def replica_ttl_attribute(self) -> str | None:
        """The replica table's TTL attribute: the source's with ``ttlDeletes=expire``, else none."""
        return self.ttl_attribute if self.ttl_deletes == TtlPolicy.EXPIRE.value else None

    @property
    def source_stack_name(self) -> str:
        return f"{self.table_name}-replication-source"

    @property
    def replica_stack_name(self) -> str:
        return f"{self.table_name}-replication-replica"

    @property
    def export_check_stack_name(self) -> str:
        """The optional stack of the export check (``exportCheck``), in the source region."""
        return f"{self.table_name}-replication-export-check"

    @property
    def export_application_name(self) -> str:
        """The EMR Serverless application that runs the export comparison job."""
        return f"{self.table_name}-export-check"

    @property
    def replicator_function_name(self) -> str:
        return f"{self.table_name}-replicator"

    @property
    def metrics_function_name(self) -> str:
        return f"{self.table_name}-usage-metrics"

    @property
    def merge_function_name(self) -> str:
        """The usage merge function: window summaries -> table-wide, hourly, daily, monthly users."""
        return f"{self.table_name}-usage-merge"

    @property
    def merge_memory_mb(self) -> int:
        """The merge reads a few hundred kilobytes of sketches a minute: the smallest size is plenty."""
        return 256

    @property
    def merge_timeout_seconds(self) -> int:
        """Within its one-minute schedule: a run that needs longer is continued by the next."""
        return 60

    @property
    def usage_table_name(self) -> str:
        """The usage table (source region): window summaries and merged distinct-user sketches."""
        return f"{self.table_name}-usage"

    @property
    def failure_queue_name(self) -> str:
        return f"{self.table_name}-replication-failures"

    @property
    def metrics_failure_queue_name(self) -> str:
        return f"{self.table_name}-usage-metrics-failures"

    def replicator_environment(self) -> dict[str, str]:
        """The replicator function's environment (the CDK app and the local runtime both use it)."""
        environment = {
            "REPLICA_TABLE_NAME": self.replica_table_name,
            "REPLICA_REGION": self.replica_region,
            "STATE_TABLE_NAME": self.state_table_name,
            "TTL_DELETES": self.ttl_deletes,
            "EXCLUDE_ATTRIBUTES": ",".join(self.exclude_attributes),
            "TOMBSTONE_RETENTION_HOURS": str(self.tombstone_retention_hours),
            "METRICS_NAMESPACE": self.replication_namespace,
        }
        if self.replica_role_arn:
            environment["REPLICA_ROLE_ARN"] = self.replica_role_arn
        return environment

    def metrics_environment(self) -> dict[str, str]:
        """The usage-metrics function's environment (the CDK app and the local runtime both use it)."""
        environment = {
            "METRICS_NAMESPACE": self.usage_namespace,
            "USER_ID_ATTRIBUTE": self.user_id_attribute,
            "TRACKED_ATTRIBUTES": ",".join(self.tracked_attributes),
            "USAGE_TABLE_NAME": self.usage_table_name,
        }
        if self.segment_attribute:
            environment["SEGMENT_ATTRIBUTE"] = self.segment_attribute
            environment["SEGMENT_VALUES"] = ",".join(self.segment_values)
        return environment

    def merge_environment(self) -> dict[str, str]:
        """The merge function's environment: the consumer's, plus the table whose summaries it merges."""
        return {**self.metrics_environment(), "SOURCE_TABLE_NAME": self.table_name}

    @property
    def replicator_role_name(self) -> str:
        """IAM names are global to the account: the source region keeps two deployments apart."""
        return f"{self.table_name}-replicator-{self.source_region}"

    @property
    def replica_role(self) -> RoleArn | None:
        """``replicaRoleArn`` in parts (validated when the configuration was read)."""
        return RoleArn.parse(self.replica_role_arn) if self.replica_role_arn else None

    @property
    def replica_account(self) -> str | None:
        """The replica region's account: the one holding ``replicaRoleArn`` if set, else ``account``."""
        role = self.replica_role
        return role.account if role else self.account

    @property
    def replica_role_name(self) -> str | None:
        """The role name (without its path) of ``replicaRoleArn``; the replica stack creates that role."""
        role = self.replica_role
        return role.name if role else None

    @property
    def replica_role_path(self) -> str:
        role = self.replica_role
        return role.path if role else "/"

    @property
    def replication_dashboard_name(self) -> str:
        return _dashboard_name(f"{self.table_name}-replication")

    @property
    def usage_dashboard_name(self) -> str:
        return _dashboard_name(f"{self.table_name}-usage")

    @property
    def alarm_topic_name(self) -> str:
        return f"{self.table_name}-replication-alarms"

    def dashboard_context(self) -> DashboardContext:
        """The names the dashboard templates of ``telemetry.dashboards`` are filled with."""
        return DashboardContext(
            source_region=self.source_region,
            replica_region=self.replica_region,
            table=self.table_name,
            replica_table=self.replica_table_name,
            replicator_function=self.replicator_function_name,
            metrics_function=self.metrics_function_name,
            failure_queue=self.failure_queue_name,
            replication_namespace=self.replication_namespace,
            usage_namespace=self.usage_namespace,
            segments=self.segment_values,
            tracked_attributes=self.tracked_attributes,
            window_seconds=self.tumbling_window_seconds,
            source_account=self.account or "",
            replica_account=self.replica_account or "",
        )


def _dashboard_name(text: str) -> str:
    # Dashboard names allow only letters, digits, "-" and "_"; table names also allow ".".
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


# AWS name limits of what is derived from the table name (function, queue, IAM role, stack).
_NAME_LIMITS = (
    ("replicator_function_name", 64),
    ("metrics_function_name", 64),
    ("merge_function_name", 64),
    ("usage_table_name", 255),
    ("failure_queue_name", 80),
    ("metrics_failure_queue_name", 80),
    ("replicator_role_name", 64),
    ("source_stack_name", 128),
    ("replica_stack_name", 128),
    ("alarm_topic_name", 256),
    ("export_check_stack_name", 128),
    ("export_application_name", 64),
)


def _check_derived_names(cfg: DeploymentConfig) -> DeploymentConfig:
    for attribute, limit in _NAME_LIMITS:
        name = getattr(cfg, attribute)
        if len(name) > limit:
            raise ConfigError(
                f"context 'tableName' {cfg.table_name!r} is too long: the derived {attribute} {name!r} "
                f"exceeds AWS's limit of {limit} characters; use a shorter table name"
            )
    if cfg.existing_table_name and cfg.existing_table_name != cfg.table_name:
        raise ConfigError(
            f"context 'existingTableName' {cfg.existing_table_name!r} must equal 'tableName' "
            f"{cfg.table_name!r}: metric dimensions and derived names use 'tableName'"
        )
    for key, existing, name, source in (
        (
            "existingReplicaTableName",
            cfg.existing_replica_table_name,
            cfg.replica_table_name,
            "replicaTableName",
        ),
        ("existingStateTableName", cfg.existing_state_table_name, cfg.state_table_name, "stateTableName"),
    ):
        if existing and existing != name:
            raise ConfigError(
                f"context {key!r} {existing!r} must equal the table's configured name {name!r} "
                f"({source!r} or its default): the replicator's environment and the alarms use that name"
            )
    if cfg.existing_stream_arn and table_name_from_arn(cfg.existing_stream_arn) != cfg.table_name:
        raise ConfigError(
            f"context 'existingStreamArn' must be a stream of table {cfg.table_name!r}; "
            f"got {cfg.existing_stream_arn!r}"
        )
    if cfg.replica_role_arn and not cfg.account:
        raise ConfigError(
            "context 'replicaRoleArn' needs 'account' too (the source account, which the replica "
            "account's role trusts)"
        )
    return cfg


def _text(get: Callable[[str], Any], key: str, default: str | None = None) -> str | None:
    value = get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        value = str(value)
    return value.strip() or None


def _required(get: Callable[[str], Any], key: str, default: str) -> str:
    return _text(get, key, default) or default


def _integer(get: Callable[[str], Any], key: str, default: int, low: int, high: int) -> int:
    raw = get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"context {key!r} must be an integer between {low} and {high}; got {raw!r}"
        ) from None
    if not low <= value <= high:
        raise ConfigError(f"context {key!r} must be between {low} and {high}; got {value}")
    return value


def _flag(get: Callable[[str], Any], key: str) -> bool:
    raw = get(key)
    if isinstance(raw, bool):
        return raw
    text = str(raw or "false").strip().lower()
    if text not in ("true", "false"):
        raise ConfigError(f"context {key!r} must be true or false; got {raw!r}")
    return text == "true"


def _names(get: Callable[[str], Any], key: str, default: str = "") -> tuple[str, ...]:
    raw = get(key)
    if isinstance(raw, list):
        return tuple(str(item).strip() for item in raw if str(item).strip())
    text = default if raw is None else str(raw)
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _matching(get: Callable[[str], Any], key: str, valid: Callable[[str], bool], what: str) -> str | None:
    value = _text(get, key)
    if value is not None and not valid(value):
        raise ConfigError(f"context {key!r} must be {what}; got {value!r}")
    return value


def _email(text: str) -> bool:
    return _EMAIL.match(text) is not None


_TABLE_NAME = "a DynamoDB table name (3-255 letters, digits, '_', '-', '.')"


def _table_name(get: Callable[[str], Any], key: str, default: str) -> str:
    return _matching(get, key, is_table_name, _TABLE_NAME) or default


def _excluded(get: Callable[[str], Any]) -> tuple[str, ...]:
    names = _names(get, "excludeAttributes")
    if never_replicated(names):
        raise ConfigError(
            f"context 'excludeAttributes' must not name {VERSION_ATTRIBUTE!r} or aws:rep:* attributes "
            "(never copied)"
        )
    return names


def _check_ttl_expire(ttl_deletes: str, ttl_attribute: str | None, excluded: tuple[str, ...]) -> None:
    """``ttlDeletes=expire`` lets the replica's own TTL delete expired items: it needs the attribute."""
    if ttl_deletes != TtlPolicy.EXPIRE.value:
        return
    if not ttl_attribute:
        raise ConfigError(
            "context 'ttlDeletes' 'expire' needs 'ttlAttribute' (the source's TTL attribute, which the "
            "replica's TTL is enabled on); set it, or choose 'replicate' or 'skip'"
        )
    if ttl_attribute in excluded:
        raise ConfigError(
            f"context 'ttlDeletes' 'expire' needs the TTL attribute {ttl_attribute!r} in the replica, "
            "but 'excludeAttributes' names it: replica items would never expire"
        )


def from_context(get: Callable[[str], Any]) -> DeploymentConfig:
    """Build and validate the configuration from a context lookup (``node.try_get_context``)."""
    source_region = (
        _matching(get, "sourceRegion", is_region, "an AWS region such as us-east-1") or "us-east-1"
    )
    replica_region = (
        _matching(get, "replicaRegion", is_region, "an AWS region such as eu-west-1") or "eu-west-1"
    )
    if source_region == replica_region:
        raise ConfigError("context 'sourceRegion' and 'replicaRegion' must differ")
    table_name = _table_name(get, "tableName", "Users")
    replica_table_name = _table_name(get, "replicaTableName", table_name)
    sort_text = _text(get, "sortKey", "timestamp:N")
    ttl_deletes = _required(get, "ttlDeletes", TtlPolicy.REPLICATE.value)
    if ttl_deletes not in {policy.value for policy in TtlPolicy}:
        raise ConfigError(f"context 'ttlDeletes' must be {TTL_POLICY_CHOICES}; got {ttl_deletes!r}")
    existing_table = _matching(get, "existingTableName", is_table_name, _TABLE_NAME)
    existing_stream = _matching(get, "existingStreamArn", is_stream_arn, "a DynamoDB stream ARN")
    if bool(existing_table) != bool(existing_stream):
        raise ConfigError("context 'existingTableName' and 'existingStreamArn' must be given together")
    ttl_attribute = _text(get, "ttlAttribute", "expires_at")
    excluded = _excluded(get)
    _check_ttl_expire(ttl_deletes, ttl_attribute, excluded)
    batch_size = _integer(get, "batchSize", 100, 1, 10_000)
    sizing = size(source_region, replica_region, batch_size=batch_size, in_flight=WRITES_IN_FLIGHT)
    segment_attribute = _text(get, "segmentAttribute", "platform")
    alarm_email = _matching(get, "alarmEmail", _email, "an e-mail address")
    return _check_derived_names(
        DeploymentConfig(
            source_region=source_region,
            replica_region=replica_region,
            account=_matching(get, "account", is_account, "a 12-digit AWS account id"),
            table_name=table_name,
            partition_key=KeyAttribute.parse("partitionKey", _required(get, "partitionKey", "user_id:S")),
            sort_key=KeyAttribute.parse("sortKey", sort_text) if sort_text else None,
            ttl_attribute=ttl_attribute,
            replica_table_name=replica_table_name,
            state_table_name=_table_name(get, "stateTableName", default_state_table(replica_table_name)),
            existing_table_name=existing_table,
            existing_stream_arn=existing_stream,
            existing_table_key_arn=_matching(get, "existingTableKeyArn", is_kms_key_arn, "a KMS key ARN"),
            existing_replica_table_name=_matching(
                get, "existingReplicaTableName", is_table_name, _TABLE_NAME
            ),
            existing_state_table_name=_matching(get, "existingStateTableName", is_table_name, _TABLE_NAME),
            replica_role_arn=_matching(get, "replicaRoleArn", is_role_arn, "an IAM role ARN"),
            alarm_email=alarm_email,
            customer_managed_key=_flag(get, "customerManagedKey"),
            ttl_deletes=ttl_deletes,
            exclude_attributes=excluded,
            tracked_attributes=_names(get, "trackedAttributes", "plan,country,app_version"),
            user_id_attribute=_required(get, "userIdAttribute", "user_id"),
            segment_attribute=segment_attribute,
            segment_values=_names(get, "segmentValues", "ios,android,web") if segment_attribute else (),
            replication_namespace=_required(get, "replicationNamespace", "DynamoDBReplication"),
            usage_namespace=_required(get, "usageNamespace", "DynamoDBUsage"),
            batch_size=batch_size,
            batching_window_seconds=_integer(get, "batchingWindowSeconds", 0, 0, 300),
            # Unset: chosen from the region pair's round trip (deployconfig/sizing.py).
            parallelization_factor=_integer(
                get, "parallelizationFactor", sizing.parallelization_factor, 1, MAX_PARALLELIZATION_FACTOR
            ),
            sizing=sizing,
            max_retry_attempts=_integer(get, "maxRetryAttempts", 10, 0, 10_000),
            max_record_age_seconds=_integer(get, "maxRecordAgeSeconds", 86_400, 60, 604_800),
            tumbling_window_seconds=_integer(get, "tumblingWindowSeconds", 60, 1, 900),
            replicator_memory_mb=_integer(get, "replicatorMemoryMb", 1024, 128, 10_240),
            replicator_timeout_seconds=_integer(get, "replicatorTimeoutSeconds", 120, 10, 900),
            metrics_memory_mb=_integer(get, "metricsMemoryMb", 512, 128, 10_240),
            metrics_timeout_seconds=_integer(get, "metricsTimeoutSeconds", 60, 10, 900),
            log_retention_days=_integer(get, "logRetentionDays", 30, 1, 3653),
            tombstone_retention_hours=_integer(
                get,
                "tombstoneRetentionHours",
                DEFAULT_TOMBSTONE_RETENTION_HOURS,
                MIN_TOMBSTONE_RETENTION_HOURS,
                MAX_TOMBSTONE_RETENTION_HOURS,
            ),
            alarm_iterator_age_ms=_integer(get, "alarmIteratorAgeMs", 60_000, 1_000, 86_400_000),
            alarm_lag_p99_ms=_integer(get, "alarmLagP99Ms", 5_000, 100, 86_400_000),
            export_check=_flag(get, "exportCheck"),
            export_retention_days=_integer(
                get, "exportRetentionDays", DEFAULT_EXPORT_RETENTION_DAYS, 1, 3653
            ),
            # At least one 4-vCPU worker for the driver and one for an executor.
            export_max_vcpu=_integer(get, "exportMaxVcpu", DEFAULT_EXPORT_MAX_VCPU, 8, 4000),
        )
    )


def find_cdk_json() -> Path | None:
    """The cdk.json to read: the current directory's, else the source checkout's, else none."""
    for candidate in (Path.cwd() / "cdk.json", CDK_JSON):
        if candidate.is_file():
            return candidate
    return None


def load(overrides: Mapping[str, Any] | None = None, path: Path | None = None) -> DeploymentConfig:
    """The configuration from ``cdk.json``'s context, with optional overrides (used off-CDK).

    Without a cdk.json (an installed wheel run outside a checkout) the built-in defaults apply;
    they are the repository's cdk.json context (a test keeps the two equal).
    """
    path = path or find_cdk_json()
    context: dict[str, Any] = {}
    if path is not None:
        try:
            context = dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))
        except (OSError, ValueError, AttributeError) as exc:
            raise ConfigError(f"cannot read the context of {str(path)!r}: {exc}") from exc
    context.update(overrides or {})
    return from_context(context.get)
