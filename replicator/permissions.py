"""The IAM actions the replicator's execution role needs, written once (and the export check's job role).

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

# The export check (issue 15): one bucket in the source region, in four prefixes. DynamoDB writes
# exports under EXPORTS_PREFIX with the operator's own credentials; the CLI uploads the job's code
# under CODE_PREFIX; the job (its EMR Serverless runtime role) reads both and writes its
# differences and summary under RESULTS_PREFIX and its driver and executor logs under LOGS_PREFIX.
# The CDK app scopes the job role to exactly these prefixes, the CLI writes to them: one spelling.
EXPORTS_PREFIX = "exports/"
CODE_PREFIX = "code/"
RESULTS_PREFIX = "results/"
LOGS_PREFIX = "logs/"

EXPORT_JOB_READ_ACTIONS = ("s3:GetObject",)
"""On ``exports/*`` and ``code/*``: the manifests and data files, the job file and its package zip."""

# Spark's output committer writes task files under a _temporary folder and moves (copies, then
# deletes) them into place, and uploads large files in parts: it needs to delete and abort there.
EXPORT_JOB_WRITE_ACTIONS = ("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
"""On ``results/*``: the job's differences and summary (and the committer's temporary files)."""

EXPORT_JOB_LOG_ACTIONS = ("s3:PutObject",)
"""On ``logs/*``: EMR Serverless uploads the driver's and executors' logs with the job's role."""

EXPORT_JOB_LIST_ACTIONS = ("s3:ListBucket",)
"""On the bucket, limited by ``s3:prefix`` to the three job prefixes: Hadoop's S3 file system lists a
"directory" to tell it from a file and to find the committed output."""
