"""The shared stream-record view over records read from moto's stream (Lambda's shape, via the tap)."""

from __future__ import annotations

from ddbstream import EventName, parse_event
from ddbstream.attributes import key_hash


def test_moto_stream_records_parse_into_typed_views(regions):
    # GIVEN an insert, a modify and a delete in the source table
    key = {"user_id": {"S": "u1"}, "timestamp": {"N": "1700000000"}}
    regions.source.put_item(TableName="Users", Item={**key, "blob": {"B": b"\x00\xff"}})
    regions.source.put_item(TableName="Users", Item={**key, "blob": {"B": b"\x01"}})
    regions.source.delete_item(TableName="Users", Key=key)
    # WHEN the stream records are shaped as Lambda delivers them and parsed
    batch = parse_event(regions.tap.read_event())
    # THEN each is a typed record with integer-comparable sequence numbers and decoded binary
    assert batch.rejected == ()
    assert [r.event_name for r in batch.records] == [EventName.INSERT, EventName.MODIFY, EventName.REMOVE]
    assert [r.sequence for r in batch.records] == sorted(r.sequence for r in batch.records)
    insert, modify, remove = batch.records
    assert insert.new_image is not None and insert.new_image["blob"] == {"B": b"\x00\xff"}
    assert modify.old_image is not None and modify.old_image["blob"] == {"B": b"\x00\xff"}
    assert remove.new_image is None and remove.keys == key
    assert insert.key_id == remove.key_id and insert.key_hash == key_hash(key)
    assert insert.table_name == "Users"
    assert insert.created_at is not None and insert.created_at == int(insert.created_at)
