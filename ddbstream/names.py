"""AWS name rules, each written once: regions, account ids, DynamoDB table names, and the ARNs of IAM
roles, DynamoDB streams and KMS keys. Pure; the replicator's settings, the operator CLI and the
deployment configuration all check names here, and word their own errors (naming the variable,
option or context key the user set).

Where the rules come from:

- Partitions and their regions: botocore's ``data/partitions.json`` (``aws``, ``aws-cn``,
  ``aws-us-gov``, ``aws-iso``, ``aws-iso-b``, ``aws-iso-e``, ``aws-iso-f``, ``aws-eusc``), e.g.
  ``us-east-1``, ``cn-north-1``, ``us-gov-west-1``, ``us-isob-east-1``, ``eusc-de-east-1``. The
  region shape is kept open to new regions of an existing kind (a new country code or number).
- Table names: 3 to 255 characters of ``a-z A-Z 0-9 _ - .`` (DynamoDB Developer Guide, "Supported
  data types and naming rules").
- Role ARNs: ``arn:PARTITION:iam::ACCOUNT:role/PATH/NAME``, the name 1 to 64 characters of
  ``\\w+=,.@-``, the path (``/`` plus its segments) at most 512 characters (IAM User Guide, "IAM and
  AWS STS quotas"; IAM API reference, ``Role``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

_PARTITION_OF_PREFIX = (
    # (region prefix, partition), most specific first.
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("eusc-", "aws-eusc"),
)
PARTITIONS = frozenset({"aws", *(partition for _, partition in _PARTITION_OF_PREFIX)})

_REGION = r"(?:[a-z]{2}(?:-gov|-iso[a-z]?)?|eusc-[a-z]{2})-[a-z]+-\d{1,2}"
_ACCOUNT = r"\d{12}"
_TABLE = r"[A-Za-z0-9_.-]{3,255}"
_ARN_PARTITION = r"aws(?:-[a-z]+(?:-[a-z]+)?)?"  # checked against PARTITIONS after matching
_IAM_NAME = r"[\w+=,.@-]"

_REGION_RE = re.compile(_REGION, re.ASCII)
_ACCOUNT_RE = re.compile(_ACCOUNT, re.ASCII)
_TABLE_RE = re.compile(_TABLE, re.ASCII)
_ROLE_ARN_RE = re.compile(
    rf"arn:(?P<partition>{_ARN_PARTITION}):iam::(?P<account>{_ACCOUNT}):role/"
    rf"(?P<path>(?:{_IAM_NAME}+/)*)(?P<name>{_IAM_NAME}{{1,64}})",
    re.ASCII,
)
_STREAM_ARN_RE = re.compile(
    rf"arn:(?P<partition>{_ARN_PARTITION}):dynamodb:(?P<region>{_REGION}):(?P<account>{_ACCOUNT}):"
    rf"table/(?P<table>{_TABLE})/stream/(?P<label>[\w:.-]+)",
    re.ASCII,
)
_KMS_KEY_ARN_RE = re.compile(
    rf"arn:(?P<partition>{_ARN_PARTITION}):kms:(?P<region>{_REGION}):(?P<account>{_ACCOUNT}):key/[A-Za-z0-9-]+",
    re.ASCII,
)
MAX_ROLE_PATH_LENGTH = 512


def is_region(text: str) -> bool:
    """An AWS region name, such as ``eu-west-1``, ``us-gov-west-1`` or ``cn-north-1``."""
    return _REGION_RE.fullmatch(text) is not None


def partition_of(region: str) -> str:
    """The partition a region belongs to (``aws`` unless its name says otherwise)."""
    return next((partition for prefix, partition in _PARTITION_OF_PREFIX if region.startswith(prefix)), "aws")


def is_account(text: str) -> bool:
    """A 12-digit AWS account id."""
    return _ACCOUNT_RE.fullmatch(text) is not None


def is_table_name(text: str) -> bool:
    """A DynamoDB table name."""
    return _TABLE_RE.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class RoleArn:
    """An IAM role ARN, in parts; ``path`` is as IAM writes it: ``/`` or ``/a/b/``."""

    partition: str
    account: str
    path: str
    name: str

    @classmethod
    def parse(cls, text: str) -> RoleArn | None:
        """The parts of a role ARN, or None when ``text`` is not one."""
        found = _ROLE_ARN_RE.fullmatch(text)
        if found is None or found["partition"] not in PARTITIONS:
            return None
        path = f"/{found['path']}"
        if len(path) > MAX_ROLE_PATH_LENGTH:
            return None
        return cls(found["partition"], found["account"], path, found["name"])


def is_role_arn(text: str) -> bool:
    return RoleArn.parse(text) is not None


def _regional_arn(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = pattern.fullmatch(text)
    if found is None or found["partition"] != partition_of(found["region"]):
        return None
    return found


def is_stream_arn(text: str) -> bool:
    """A DynamoDB stream ARN: ``arn:PARTITION:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL``."""
    return _regional_arn(_STREAM_ARN_RE, text) is not None


def is_kms_key_arn(text: str) -> bool:
    """A KMS key ARN: ``arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID``."""
    return _regional_arn(_KMS_KEY_ARN_RE, text) is not None


def table_name_from_arn(arn: object) -> str | None:
    """The table name in a table or stream ARN (``arn:...:table/NAME[/stream/LABEL]``), else None.

    Lenient on purpose: it reads the ``eventSourceARN`` of stream records, which it never rejects.
    """
    if not isinstance(arn, str) or ":table/" not in arn:
        return None
    return arn.split(":table/", 1)[1].split("/", 1)[0] or None


def is_endpoint_url(text: str) -> bool:
    """An endpoint override: ``http://`` or ``https://`` with a host (a port and a path may follow)."""
    parsed = urlparse(text)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)
