"""Scenario 7: awkward data arrives in the replica byte-identical."""

from __future__ import annotations

import base64
import json
from typing import Any

from faultlab import payloads
from faultlab.faults import FaultRates
from faultlab.rig import RigSettings
from faultlab.sequenced import SequencedSettings
from faultlab.validate import require_all, without_metadata
from tests.support.rig import running


def wire(item: dict[str, Any]) -> str:
    """An item as DynamoDB's JSON carries it (numbers as text, binary as base64), canonically ordered."""

    def encode(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        raise TypeError(type(value))

    return json.dumps(item, sort_keys=True, default=encode, ensure_ascii=False)


def test_awkward_values_arrive_byte_identical(make_rig):
    # GIVEN 80 writes over 10 keys, every whole-item write carrying 38-digit numbers, extreme exponents,
    # binary and binary sets, 32 levels of nesting, empty strings, lists and maps, and reserved words
    # as attribute names; and replies lost now and then (so some of it is written twice)
    rig = make_rig(RigSettings(seed=71, rates=FaultRates(lost_reply=0.1, throttle=0.1)))
    workload = rig.workload(SequencedSettings(keys=10, seed=71), decorate=payloads.awkward)
    workload.run(80)
    # WHEN it is replicated
    with running(rig):
        pass
    # THEN each replica item is byte for byte the source item (metadata aside), all validators hold
    source, replica = rig.source_items(), rig.replica_items()
    assert source and source.keys() == replica.keys()
    for key, item in source.items():
        assert wire(without_metadata(replica[key])) == wire(item), key
    require_all(rig.problems(workload.model))
    # AND the values really were awkward (the decoration reached the source)
    sample = next(iter(source.values()))
    assert len(sample["exact38"]["N"]) == 38 and sample["empty_string"] == {"S": ""}
    depth, value = 1, sample["deep"]
    while "S" not in value:
        value = value["M"][next(iter(value["M"]))] if "M" in value else value["L"][0]
        depth += 1
    assert depth == payloads.MAX_DEPTH
    assert any(word in sample for word in payloads.RESERVED_WORDS)
