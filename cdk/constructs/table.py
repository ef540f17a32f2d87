"""The DynamoDB tables: the source table with its stream, and the replica and state tables.

Every table is retained when its stack is deleted and has deletion protection: a ``cdk destroy``
must never take user data with it. Physical names come from the configuration, so the other
region's stack can name them without a cross-region reference.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from deployconfig.config import DeploymentConfig, KeyAttribute
from replicator.core import schema
from replicator.permissions import STREAM_LIST_ACTIONS, STREAM_READ_ACTIONS

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def _encryption(key: kms.IKey | None) -> dict[str, object]:
    if key is None:
        # The AWS-managed key (aws/dynamodb): encrypted, and usable by any principal of the
        # account that DynamoDB authorises, so no key grants are needed.
        return {"encryption": dynamodb.TableEncryption.AWS_MANAGED}
    return {"encryption": dynamodb.TableEncryption.CUSTOMER_MANAGED, "encryption_key": key}


def _retained_table(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    partition_key: KeyAttribute,
    sort_key: KeyAttribute | None,
    key: kms.IKey | None,
    ttl_attribute: str | None = None,
    stream: dynamodb.StreamViewType | None = None,
) -> dynamodb.Table:
    return dynamodb.Table(
        scope,
        construct_id,
        table_name=name,
        partition_key=_attribute(partition_key),
        sort_key=_attribute(sort_key) if sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
        time_to_live_attribute=ttl_attribute,
        stream=stream,
        **_encryption(key),  # type: ignore[arg-type]
    )


def _existing_or_retained(
    scope: Construct,
    construct_id: str,
    *,
    existing: str | None,
    name: str,
    partition_key: KeyAttribute,
    sort_key: KeyAttribute | None,
    key: kms.IKey | None,
    ttl_attribute: str | None,
) -> dynamodb.ITable:
    """The table called ``existing`` (attached by name, as it is), else a new retained table."""
    if existing:
        return dynamodb.Table.from_table_name(scope, f"Existing{construct_id}", existing)
    return _retained_table(
        scope,
        construct_id,
        name=name,
        partition_key=partition_key,
        sort_key=sort_key,
        key=key,
        ttl_attribute=ttl_attribute,
    )


class SourceTable(Construct):
    """The source table and its NEW_AND_OLD_IMAGES stream, created here or imported by name.

    With ``existingTableName`` and ``existingStreamArn`` the table is not created: the consumers
    attach to that stream (which must have view type NEW_AND_OLD_IMAGES; DynamoDB allows one
    view type per stream and the replicator needs both images).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, key: kms.IKey | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.stream_key: kms.IKey | None
        if config.existing_table_name and config.existing_stream_arn:
            self.table: dynamodb.ITable = dynamodb.Table.from_table_attributes(
                self,
                "Imported",
                table_name=config.existing_table_name,
                table_stream_arn=config.existing_stream_arn,
            )
            self.table_name = config.existing_table_name
            self.stream_arn = config.existing_stream_arn
            self.stream_key = (
                kms.Key.from_key_arn(self, "ImportedKey", config.existing_table_key_arn)
                if config.existing_table_key_arn
                else None
            )
            return
        table = _retained_table(
            self,
            "Table",
            name=config.table_name,
            partition_key=config.partition_key,
            sort_key=config.sort_key,
            key=key,
            ttl_attribute=config.ttl_attribute,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
        assert table.table_stream_arn is not None  # a stream view type was given
        self.table = table
        self.table_name = config.table_name
        self.stream_arn = table.table_stream_arn
        self.stream_key = key

    def grant_stream_read(self, grantee: iam.IGrantable) -> None:
        """Read this table's stream; no other stream, no table data."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[self.stream_arn])
        )
        # ListStreams returns stream ARNs only and supports no resource-level permissions; Lambda
        # names it among the actions it checks when creating the event source mapping.
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=list(STREAM_LIST_ACTIONS), resources=["*"])
        )
        if self.stream_key is not None:
            # Stream records of a table with a customer-managed key are encrypted with that key.
            self.stream_key.grant_decrypt(grantee)


class ReplicaTables(Construct):
    """The replica table and the replicator's state table, both in the replica region.

    Each is created here, or, with ``existingReplicaTableName`` / ``existingStateTableName``,
    attached by name: ``make destroy`` keeps both tables (retained, deletion protection on), so
    the next deploy of the same configuration would otherwise fail on "already exists". An
    attached table is left as it is (its TTL included) and outside the stack, so a later
    ``make destroy`` does not touch it either.

    The replica has the source's key schema. Its TTL follows ``ttlDeletes``:

    * ``replicate`` and ``skip``: no TTL of its own. The source's TTL deletes arrive on the stream
      as REMOVE records and the replicator applies them (``replicate``) or keeps the items on
      purpose (``skip``, an archive); a TTL here would delete what the replicator means to keep.
    * ``expire``: TTL on the source's TTL attribute (``ttlAttribute``), which every replicated
      item carries. The replicator skips TTL-delete records and DynamoDB's TTL deletes the expired
      replica item itself, without consuming write capacity, like the source's
      (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, key: kms.IKey | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.replica = _existing_or_retained(
            self,
            "Replica",
            existing=config.existing_replica_table_name,
            name=config.replica_table_name,
            partition_key=config.partition_key,
            sort_key=config.sort_key,
            key=key,
            ttl_attribute=config.replica_ttl_attribute,
        )
        self.state = _existing_or_retained(
            self,
            "State",
            existing=config.existing_state_table_name,
            name=config.state_table_name,
            partition_key=KeyAttribute(schema.STATE_PARTITION_KEY, "S"),
            sort_key=None,
            key=key,
            ttl_attribute=schema.STATE_TTL_ATTRIBUTE,
        )
