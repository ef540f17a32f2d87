"""The dashboards as synthesized: where each lives, what each widget reads, where it is drawn."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def _body(synthesized: Synthesized, name: str) -> dict[str, Any]:
    """The body of the dashboard called ``name`` (both live in the source stack)."""
    (dashboard,) = synthesized.source.find_resources(
        "AWS::CloudWatch::Dashboard", {"Properties": {"DashboardName": name}}
    ).values()
    body: dict[str, Any] = json.loads(dashboard["Properties"]["DashboardBody"])
    return body


def test_replication_dashboard_lives_in_the_source_region_and_reads_the_replica_table_there(
    cdk_default: Synthesized,
):
    cdk_default.source.has_output(
        "ReplicationDashboardUrl",
        {
            "Value": "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
            "#dashboards/dashboard/Users-replication"
        },
    )
    cdk_default.replica.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    body = _body(cdk_default, "Users-replication")
    rows = [
        row
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
        if len(row) > 1  # a metric, not a metric-math expression (whose inputs are rows too)
    ]
    regions = {row[-1].get("region") for row in rows}
    # EMF metrics land where the functions run; the replica table's own metrics are read from its region.
    assert regions == {"us-east-1", "eu-west-1"}
    replica_rows = [row for row in rows if row[-1].get("region") == "eu-west-1"]
    assert {row[0] for row in replica_rows} == {"AWS/DynamoDB"}


def _widgets(synthesized: Synthesized) -> list[dict[str, Any]]:
    widgets: list[dict[str, Any]] = _body(synthesized, "Users-replication")["widgets"]
    return widgets


def test_write_units_per_replicated_change_is_drawn_beside_records_replicated(cdk_default: Synthesized):
    # GIVEN the replication dashboard as deployed
    widgets = _widgets(cdk_default)
    (replicated,) = [w for w in widgets if w["properties"].get("title", "").startswith("Records replicated")]
    (cost,) = [w for w in widgets if "per replicated change" in w["properties"].get("title", "")]
    # THEN the cost graph sits right beside records replicated, in the same row
    assert (cost["y"], cost["x"]) == (replicated["y"], replicated["x"] + replicated["width"])
    props = cost["properties"]
    assert props["title"] == "Replica write and read units per replicated change, per minute (Sum / Sum)"
    # AND each line is metric math dividing the units' per-minute Sum by the records' per-minute Sum
    expressions = {row[0]["label"]: row[0]["expression"] for row in props["metrics"] if len(row) == 1}
    assert expressions == {"write units per change": "n0 / d0", "read units per change": "n1 / d1"}
    inputs = {row[-1]["id"]: (row[1], row[2:-1], row[-1]["stat"]) for row in props["metrics"] if len(row) > 1}
    table = ["TableName", "Users"]
    assert inputs == {
        "n0": ("ReplicaWriteUnits", table, "Sum"),
        "d0": ("RecordsReplicated", table, "Sum"),
        "n1": ("ReplicaReadUnits", table, "Sum"),
        "d1": ("RecordsReplicated", table, "Sum"),
    }
    assert all(not row[-1]["visible"] for row in props["metrics"] if len(row) > 1)
    # AND the math runs in the region where the replicator publishes both metrics
    assert props["region"] == cdk_default.config.source_region
    # AND Global Tables' one write unit per change is drawn for comparison
    assert props["annotations"]["horizontal"] == [
        {"value": 1, "label": "Global Tables: 1 write unit per 1 KB change", "yAxis": "left"}
    ]
