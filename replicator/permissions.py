"""The IAM actions the replicator's execution role needs, written once.

The CDK app grants exactly these (``cdk/constructs``), ``python -m replicator doctor --deep``
simulates them against the deployed role, and ``tests/integration/test_replicator_iam.py`` records
every request the replicator makes and checks it against the two table lists. Pure data.
"""

from __future__ import annotations

STREAM_READ_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords")
"""What a stream consumer (a Lambda event source mapping) needs on the stream itself."""

STREAM_LIST_ACTIONS = ("dynamodb:ListStreams",)
"""Supports no resource-level permissions (resource ``*``); Lambda checks it when it creates the mapping."""

# Exactly what the replicator's writer calls, and nothing more: plain conditional writes of items
# and tombstones, consistent reads of tombstones (BatchGetItem for a batch's inserts, GetItem for a
# MODIFY whose item is absent), the high-water mark's UpdateItem. No transactions on the live path
# (redrive's guarded puts run with the operator's own credentials). It reads nothing of the replica
# table.
REPLICA_TABLE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
)
STATE_TABLE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
)

FAILURE_QUEUE_ACTIONS = ("sqs:SendMessage",)
"""What Lambda needs to put a failure record on the mapping's on-failure queue (with the function's role)."""

ASSUME_REPLICA_ROLE_ACTIONS = ("sts:AssumeRole",)
"""With ``REPLICA_ROLE_ARN`` (a replica in another account) the role reaches the replica only through it."""
