"""The pure repair rule: which version a repair writes."""

from __future__ import annotations

from replicator.core import version
from replicator.core.repair import ReplicaState, repair_version


def test_repair_version_is_the_highest_known_version():
    item = {"repl:version": {"S": version.encode(50)}}
    assert repair_version(ReplicaState(item, version.encode(70)), version.encode(60)) == version.encode(70)
    assert repair_version(ReplicaState(item, None), version.encode(60)) == version.encode(60)
    assert repair_version(ReplicaState(None, None), None) == version.ZERO
