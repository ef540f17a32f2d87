"""Read a DynamoDB stream (moto's, in process) from its start: every new record, in stream order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from localrun.esm.shards import list_shards

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient


class StreamReader:
    """Follows each shard from TRIM_HORIZON; :meth:`read` returns the records not read before."""

    def __init__(self, client: DynamoDBStreamsClient, stream_arn: str) -> None:
        self._client = client
        self.stream_arn = stream_arn
        self._positions: dict[str, str | None] = {}

    def read(self) -> list[dict[str, Any]]:
        """New records in GetRecords' shape (shape them for Lambda with ``ddbstream.lambda_event``)."""
        records: list[dict[str, Any]] = []
        for shard in list_shards(self._client, self.stream_arn):
            if shard.shard_id not in self._positions:
                self._positions[shard.shard_id] = self._client.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard.shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            position = self._positions[shard.shard_id]
            while position:
                page = self._client.get_records(ShardIterator=position, Limit=1000)
                records.extend(dict(record) for record in page["Records"])
                position = page.get("NextShardIterator")
                if not page["Records"]:
                    break
            self._positions[shard.shard_id] = position
        return records
