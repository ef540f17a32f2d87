"""Configuration of the usage-metrics consumer, read once from the environment (:func:`from_environ`).

======================  ==============================  ===========================================
variable                default                         meaning
======================  ==============================  ===========================================
METRICS_NAMESPACE       DynamoDBUsage                   CloudWatch namespace of every metric
USER_ID_ATTRIBUTE       user_id                         attribute holding the user id (ActiveUsers)
TRACKED_ATTRIBUTES      (none)                          comma list: attributes whose changes count
SEGMENT_ATTRIBUTE       (none: no Segment dimension)    attribute giving a record its segment
SEGMENT_VALUES          (none)                          comma list of segments; the rest is "other"
USAGE_TABLE_NAME        (none: no window summaries)     usage table: window summaries, merged sketches
USAGE_TABLE_REGION      the function's region           region of the usage table
USAGE_ENDPOINT_URL      (none)                          endpoint of the usage table (local runs)
======================  ==============================  ===========================================

The merge function (``metrics.merge.handler``) reads the same variables, with USAGE_TABLE_NAME
required, plus:

======================  ==============================  ===========================================
SOURCE_TABLE_NAME       (required)                      the source table whose summaries it merges
MERGE_GRACE_SECONDS     30                              wait after a minute ends before merging it
======================  ==============================  ===========================================

Every configured name ends up as a CloudWatch dimension *value*, so the lists are bounded (each
value costs up to three series per invocation) and must be ASCII, as EMF requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_embedded_metrics.exceptions import InvalidNamespaceError
from aws_embedded_metrics.validator import validate_namespace

from ddbstream.names import is_endpoint_url, is_region, is_table_name
from metrics.errors import SettingsError
from telemetry import catalogue

MAX_TRACKED_ATTRIBUTES = 20
MAX_SEGMENT_VALUES = 16
MAX_NAME_LENGTH = 250
"""EMF allows 1024 characters in a dimension value; names longer than this are surely a mistake."""
DEFAULT_GRACE_SECONDS = 30
MAX_GRACE_SECONDS = 600


@dataclass(frozen=True, slots=True)
class UsageTable:
    """Where window summaries and merged sketches live (in the source region when deployed)."""

    name: str
    region: str | None = None
    """None: the region the function runs in (AWS_REGION)."""
    endpoint_url: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    namespace: str = catalogue.DEFAULT_USAGE_NAMESPACE
    user_id_attribute: str = "user_id"
    tracked_attributes: tuple[str, ...] = ()
    segment_attribute: str | None = None
    segment_values: tuple[str, ...] = ()
    usage_table: UsageTable | None = None
    """Store each closing window's summary there (and leave ActiveUsers to the merge function)."""

    @property
    def segmented(self) -> bool:
        """Whether the Segment dimension is published at all."""
        return self.segment_attribute is not None

    @property
    def segments(self) -> tuple[str, ...]:
        """Every Segment dimension value this deployment can publish, "other" last."""
        return (*self.segment_values, catalogue.OTHER_SEGMENT) if self.segmented else ()


def from_environ(env: Mapping[str, str]) -> Settings:
    """Read and validate the variables above; a :class:`SettingsError` names the culprit."""
    namespace = _text(env, "METRICS_NAMESPACE") or catalogue.DEFAULT_USAGE_NAMESPACE
    try:
        validate_namespace(namespace)
    except InvalidNamespaceError as exc:
        raise SettingsError("METRICS_NAMESPACE", f"{exc} (letters, digits and ._#:/- only)") from None
    if namespace.startswith("AWS/"):
        raise SettingsError("METRICS_NAMESPACE", "namespaces starting with 'AWS/' are reserved by AWS")
    user_id = _name("USER_ID_ATTRIBUTE", _text(env, "USER_ID_ATTRIBUTE") or "user_id")
    tracked = _names(env, "TRACKED_ATTRIBUTES", MAX_TRACKED_ATTRIBUTES)
    segment_attribute = _text(env, "SEGMENT_ATTRIBUTE")
    segment_values = _names(env, "SEGMENT_VALUES", MAX_SEGMENT_VALUES)
    if segment_attribute:
        _name("SEGMENT_ATTRIBUTE", segment_attribute)
        if not segment_values:
            raise SettingsError(
                "SEGMENT_VALUES",
                "list at least one segment (comma separated) when SEGMENT_ATTRIBUTE is set",
            )
    elif segment_values:
        raise SettingsError("SEGMENT_VALUES", "is set but SEGMENT_ATTRIBUTE is not; set both or neither")
    if catalogue.OTHER_SEGMENT in segment_values:
        raise SettingsError(
            "SEGMENT_VALUES",
            f"{catalogue.OTHER_SEGMENT!r} is reserved for records outside the listed segments",
        )
    return Settings(
        namespace=namespace,
        user_id_attribute=user_id,
        tracked_attributes=tracked,
        segment_attribute=segment_attribute or None,
        segment_values=segment_values,
        usage_table=_usage_table(env),
    )


@dataclass(frozen=True, slots=True)
class MergeSettings:
    """The merge function's configuration: the consumer's, plus what to merge and when."""

    settings: Settings
    usage_table: UsageTable
    source_table: str
    grace_seconds: int = DEFAULT_GRACE_SECONDS


def merge_from_environ(env: Mapping[str, str]) -> MergeSettings:
    """Read the merge function's variables (the consumer's and the table above); names the culprit."""
    settings = from_environ(env)
    if settings.usage_table is None:
        raise SettingsError("USAGE_TABLE_NAME", "is required: the table holding the window summaries")
    source = _text(env, "SOURCE_TABLE_NAME")
    if not is_table_name(source):
        raise SettingsError("SOURCE_TABLE_NAME", "must name the source table (3-255 of a-z A-Z 0-9 _ - .)")
    grace = _text(env, "MERGE_GRACE_SECONDS") or str(DEFAULT_GRACE_SECONDS)
    if not grace.isdigit() or int(grace) > MAX_GRACE_SECONDS:
        raise SettingsError("MERGE_GRACE_SECONDS", f"must be whole seconds from 0 to {MAX_GRACE_SECONDS}")
    return MergeSettings(settings, settings.usage_table, source, int(grace))


def _usage_table(env: Mapping[str, str]) -> UsageTable | None:
    name, region, endpoint = (
        _text(env, "USAGE_TABLE_NAME"),
        _text(env, "USAGE_TABLE_REGION"),
        _text(env, "USAGE_ENDPOINT_URL"),
    )
    if not name:
        for variable, value in (("USAGE_TABLE_REGION", region), ("USAGE_ENDPOINT_URL", endpoint)):
            if value:
                raise SettingsError(variable, "is set but USAGE_TABLE_NAME is not")
        return None
    if not is_table_name(name):
        raise SettingsError("USAGE_TABLE_NAME", "must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .)")
    if region and not is_region(region):
        raise SettingsError("USAGE_TABLE_REGION", "must be an AWS region such as us-east-1")
    if endpoint and not is_endpoint_url(endpoint):
        raise SettingsError("USAGE_ENDPOINT_URL", "must be an http(s) URL")
    return UsageTable(name, region or None, endpoint or None)


def _text(env: Mapping[str, str], variable: str) -> str:
    return env.get(variable, "").strip()


def _name(variable: str, name: str) -> str:
    if not name.isascii() or not name.isprintable():
        raise SettingsError(
            variable, "names must be printable ASCII (they become CloudWatch dimension values)"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise SettingsError(variable, f"a name is longer than {MAX_NAME_LENGTH} characters")
    return name


def _names(env: Mapping[str, str], variable: str, limit: int) -> tuple[str, ...]:
    names = [part.strip() for part in _text(env, variable).split(",") if part.strip()]
    for name in names:
        _name(variable, name)
    if len(set(names)) != len(names):
        raise SettingsError(variable, "lists a name twice")
    if len(names) > limit:
        raise SettingsError(
            variable, f"lists {len(names)} names; at most {limit} keep the number of metric series bounded"
        )
    return tuple(names)
