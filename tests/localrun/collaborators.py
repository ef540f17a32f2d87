"""The system's consumers as the demo loads them, and a stand-in for the check CLI until it lands.

``python -m replicator check`` is being written on another branch. Until it is installed,
:func:`system_components` pairs the real handlers with :func:`table_check`, which compares both
tables item by item through the same endpoint (the replica's version attribute aside). Once the CLI
is installed, the real check is used and this stand-in is no longer called.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import boto3

from localrun.invoke import handlers as parts
from replicator.core.schema import VERSION_ATTRIBUTE


def table_check(request: parts.CheckRequest) -> parts.CheckResult:
    """Exit code 0 when both tables hold the same items, 1 otherwise (the CLI's contract)."""

    def scan(location: str) -> dict[str, Any]:
        region, table = location.split("/")
        client = boto3.client(
            "dynamodb",
            region_name=region,
            endpoint_url=request.endpoint_url,
            aws_access_key_id=request.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            aws_secret_access_key=request.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        )
        items = [
            item for page in client.get_paginator("scan").paginate(TableName=table) for item in page["Items"]
        ]
        return {
            json.dumps([item["user_id"], item["timestamp"]], sort_keys=True): {
                name: value for name, value in item.items() if name != VERSION_ATTRIBUTE
            }
            for item in items
        }

    source, replica = scan(request.source), scan(request.replica)
    differences = sorted(set(source) ^ set(replica)) + sorted(
        key for key in source if key in replica and source[key] != replica[key]
    )
    request.json_path.write_text(json.dumps({"differences": len(differences)}))
    return parts.CheckResult(1 if differences else 0, f"{len(source)} items, {len(differences)} differences")


def system_components() -> parts.Components:
    """The real replicator and usage-metrics handlers; the real check once it is installed."""
    loaded = parts.load()
    if loaded.check is parts.unavailable_check:
        return dataclasses.replace(loaded, check=table_check)
    return loaded
