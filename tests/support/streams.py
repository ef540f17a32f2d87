"""Read a (moto) DynamoDB stream and shape its records as Lambda delivers them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ddbstream.lambda_event import lambda_event, lambda_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient


class StreamTap:
    """Follows every shard of a stream from TRIM_HORIZON; each :meth:`read` returns the new records."""

    def __init__(self, client: DynamoDBStreamsClient, stream_arn: str) -> None:
        self._client = client
        self.stream_arn = stream_arn
        self._iterators: dict[str, str | None] = {}

    def _refresh_shards(self) -> None:
        shards = self._client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._client.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def read_raw(self) -> list[dict[str, Any]]:
        """New records in boto3's GetRecords shape, in stream order."""
        self._refresh_shards()
        records: list[dict[str, Any]] = []
        for shard_id, start in list(self._iterators.items()):
            position = start
            while position:
                page = self._client.get_records(ShardIterator=position, Limit=1000)
                records.extend(page["Records"])  # type: ignore[arg-type]
                position = page.get("NextShardIterator")
                if not page["Records"]:
                    break
            self._iterators[shard_id] = position
        return records

    def read(self) -> list[dict[str, Any]]:
        """New records in Lambda's event-record shape."""
        return [lambda_record(record, stream_arn=self.stream_arn) for record in self.read_raw()]

    def read_event(self) -> dict[str, Any]:
        """New records as one Lambda invocation event."""
        return lambda_event(self.read_raw(), stream_arn=self.stream_arn)
