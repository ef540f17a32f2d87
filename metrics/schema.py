"""The usage table's key schema: what the CDK app and the local runtime create, and all the
consumer and the merge function need of it (:mod:`metrics.usage_items` holds the item layout)."""

from __future__ import annotations

PARTITION_KEY = "pk"
"""String partition key: ``<source table>#<kind>#<period>`` (see metrics/usage_items.py)."""
SORT_KEY = "sk"
"""String sort key."""
TTL_ATTRIBUTE = "expires_at"
"""Epoch seconds; DynamoDB's TTL deletes minute, hour and day items once their retention ends."""
