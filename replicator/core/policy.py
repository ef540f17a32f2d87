"""What the operator decided a change means for the replica: the TTL-delete policy and exclusions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TtlPolicy(StrEnum):
    """What a TTL delete in the source does to the replica."""

    REPLICATE = "replicate"  # delete the item in the replica too
    SKIP = "skip"  # keep it (the replica becomes an archive of expired items)
    EXPIRE = "expire"  # write nothing: the replica's own TTL deletes it, for free (0 write units)

    @property
    def skips_ttl_deletes(self) -> bool:
        """Whether a TTL delete record needs no write under this policy."""
        return self is not TtlPolicy.REPLICATE


TTL_POLICY_CHOICES = " or ".join(repr(policy.value) for policy in TtlPolicy)
"""The policies as an error message lists them (``TTL_DELETES``, the ``ttlDeletes`` context key)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The parts of the settings that decide what a record means for the replica."""

    ttl_policy: TtlPolicy = TtlPolicy.REPLICATE
    exclude_attributes: frozenset[str] = frozenset()
