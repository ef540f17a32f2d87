"""A Lambda function on the table's stream: function, role, log group, mapping, failure queue.

Both consumers (replicator, usage metrics) share this shape; what differs (code, environment,
starting position, tumbling window, extra permissions) comes in through
:class:`ConsumerSettings` and the grants the stack adds to :attr:`StreamConsumer.role`.

Event source mapping choices, the same for both consumers (sizing in docs/deployment.md):

* ``ReportBatchItemFailures``: a handler names the first record it could not finish; Lambda
  retries from there instead of replaying the whole batch.
* Bisect on error: a batch that fails as a whole (a crash, a timeout) is split in two until the
  poisoned record is isolated, so one bad record cannot hold back the shard for long.
* Bounded retries and maximum record age: after ``maxRetryAttempts`` or once a record is older
  than ``maxRecordAgeSeconds`` Lambda gives up on it and sends its position (shard, sequence
  range) to the failure queue, from where ``python -m replicator redrive`` replays it while the
  stream still holds it (24 hours).
* No event filter: a filtered-out record is gone for good; handlers decide what to skip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jsii
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.constructs.bundling import LambdaPackage
from cdk.constructs.function import FunctionSpec, acknowledge_runtime, logged_function
from cdk.constructs.nag import acknowledge
from deployconfig.config import DeploymentConfig
from replicator.permissions import FAILURE_QUEUE_ACTIONS

# The longest SQS allows: an operator has two weeks to look at a failure before it expires.
FAILURE_RETENTION = Duration.days(14)


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """What distinguishes one stream consumer from the other."""

    package: LambdaPackage
    handler: str
    function_name: str
    failure_queue_name: str
    memory_mb: int
    timeout_seconds: int
    starting_position: lambda_.StartingPosition
    description: str
    environment: dict[str, str] = field(default_factory=dict)
    tumbling_window_seconds: int | None = None
    role_name: str | None = None
    # None: the configured parallelizationFactor.
    parallelization_factor: int | None = None


class StreamConsumer(Construct):
    """One Lambda consumer of a DynamoDB stream, least privilege, with an on-failure queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        settings: ConsumerSettings,
        stream_arn: str,
        key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.failure_queue = sqs.Queue(
            self,
            "FailureQueue",
            queue_name=settings.failure_queue_name,
            encryption=sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=FAILURE_RETENTION,
        )
        made = logged_function(
            self,
            FunctionSpec(
                name=settings.function_name,
                description=settings.description,
                handler=settings.handler,
                package=settings.package,
                memory_mb=settings.memory_mb,
                timeout_seconds=settings.timeout_seconds,
                log_retention_days=config.log_retention_days,
                environment=settings.environment,
                role_name=settings.role_name,
            ),
        )
        self.log_group, self.role, self.function = made.log_group, made.role, made.function
        tumbling = settings.tumbling_window_seconds
        self.mapping = lambda_.EventSourceMapping(
            self,
            "StreamMapping",
            target=self.function,
            event_source_arn=stream_arn,
            starting_position=settings.starting_position,
            batch_size=config.batch_size,
            max_batching_window=Duration.seconds(config.batching_window_seconds),
            parallelization_factor=settings.parallelization_factor or config.parallelization_factor,
            report_batch_item_failures=True,
            bisect_batch_on_error=True,
            retry_attempts=config.max_retry_attempts,
            max_record_age=Duration.seconds(config.max_record_age_seconds),
            tumbling_window=Duration.seconds(tumbling) if tumbling else None,
            on_failure=_FailureQueue(self.failure_queue.queue_arn),
        )
        # What Lambda needs to put a failure record on the (possibly KMS-encrypted) queue; CDK's
        # SqsDlq would also grant GetQueueAttributes, GetQueueUrl, kms:ReEncrypt* and more.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(FAILURE_QUEUE_ACTIONS), resources=[self.failure_queue.queue_arn])
        )
        if key is not None:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn])
            )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            acknowledge(
                self.failure_queue,
                rule,
                "This queue is itself the dead-letter destination: the event source mapping's "
                "on-failure destination for stream records it gave up on. Its messages are read "
                "by operators and the redrive CLI, never by a consumer that could fail on them.",
            )
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "The function is invoked synchronously by its stream event source mapping only; records "
            "it gives up on go to the mapping's on-failure SQS destination. A function DLQ applies "
            "to asynchronous invocations only.",
        )
        acknowledge_runtime(self.function)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Only two kinds of action have Resource '*', neither reads or writes data: "
            "xray:PutTraceSegments/PutTelemetryRecords (X-Ray supports no resource-level "
            "permissions) and dynamodb:ListStreams (a list of stream ARNs, which supports no "
            "resource-level permissions and which Lambda checks when it creates the mapping). "
            "Every data action names its stream, table, queue or key.",
        )


@jsii.implements(lambda_.IEventSourceDlq)
class _FailureQueue:
    """The mapping's on-failure destination; :class:`StreamConsumer` grants the permissions."""

    def __init__(self, queue_arn: str) -> None:
        self._queue_arn = queue_arn

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self._queue_arn)
