"""Stand-ins for the system's own consumers and check, used until those land on main.

They are collaborators, not AWS fakes: they talk to the same endpoint the demo uses, through
boto3, and follow the same contracts (``create_handler(environ)``, the check's exit codes). The
replicator stand-in copies each change as it comes (no ordering safety); the metrics stand-in
counts changes per tumbling window. Both print EMF documents, as the real handlers do.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import boto3

from ddbstream import parse_event
from localrun.components import CheckRequest, CheckResult, Components
from localrun.function import Handler


def _emf(
    namespace: str, table: str, dimensions: list[list[str]], metrics: dict[str, Any], **extra: str
) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": dimensions,
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in metrics],
                    }
                ],
            },
            "TableName": table,
            **extra,
            **metrics,
        }
    )


def copy_replicator(environ: Mapping[str, str]) -> Handler:
    replica = boto3.client(
        "dynamodb", region_name=environ["REPLICA_REGION"], endpoint_url=environ.get("REPLICA_ENDPOINT_URL")
    )
    table, namespace = environ["REPLICA_TABLE_NAME"], environ["METRICS_NAMESPACE"]

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = parse_event(event).records
        by_operation: Counter[str] = Counter()
        lags = []
        for record in records:
            if record.is_removal:
                replica.delete_item(TableName=table, Key=dict(record.keys))
            else:
                replica.put_item(TableName=table, Item=dict(record.require_new_image()))
            by_operation[record.event_name.value] += 1
            if record.created_at is not None:
                lags.append(max(0.0, (time.time() - record.created_at) * 1000))
        source = records[0].table_name if records else "unknown"
        for operation, count in by_operation.items():
            print(
                _emf(
                    namespace,
                    source or "unknown",
                    [["TableName"], ["TableName", "Operation"]],
                    {"RecordsReplicated": count},
                    Operation=operation,
                )
            )
        for start in range(0, len(lags), 100):
            print(
                _emf(
                    namespace,
                    source or "unknown",
                    [["TableName"]],
                    {"ReplicationLagMs": lags[start : start + 100]},
                )
            )
        return {"batchItemFailures": []}

    return handler


def window_counter(environ: Mapping[str, str]) -> Handler:
    namespace = environ["METRICS_NAMESPACE"]

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        state = dict(event.get("state") or {})
        if event.get("isFinalInvokeForWindow"):
            table = event["eventSourceARN"].split(":table/")[1].split("/")[0]
            print(_emf(namespace, table, [["TableName"]], {"ActiveUsers": len(state.get("users", []))}))
            return {"state": {}}
        records = parse_event(event).records
        users = set(state.get("users", [])) | {r.keys["user_id"]["S"] for r in records}
        return {"state": {"users": sorted(users)}, "batchItemFailures": []}

    return handler


def table_check(request: CheckRequest) -> CheckResult:
    """Compare both tables item by item (what ``python -m replicator check`` does, minus the extras)."""

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
        return {json.dumps([item["user_id"], item["timestamp"]], sort_keys=True): item for item in items}

    source, replica = scan(request.source), scan(request.replica)
    differences = sorted(set(source) ^ set(replica)) + sorted(
        k for k in source if k in replica and source[k] != replica[k]
    )
    request.json_path.write_text(json.dumps({"differences": len(differences)}))
    return CheckResult(
        1 if differences else 0, f"{len(source)} items in the source, {len(differences)} differences"
    )


COMPONENTS = Components(replicator=copy_replicator, metrics=window_counter, check=table_check)
