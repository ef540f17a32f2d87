"""The Lambda event source mapping for DynamoDB streams, emulated off-AWS.

``settings`` holds the mapping's parameters, ``batches``/``outcome``/``window``/``failure`` are the
pure rules (what goes in a batch, how a response is judged, tumbling windows, the on-failure
message), ``processor`` applies them to one shard, ``shards``/``checkpoints`` do the stream I/O,
``runner`` drives one mapping and ``streamrunner`` runs mappings in threads. ``partition``,
``lineage`` and ``lowwater`` (pure) with ``lane`` and ``source`` run a stream shard as N virtual
shards (``EventSourceMapping(shards=N)``). docs/local-runtime.md lists what is emulated and what
differs.
"""

from __future__ import annotations

from localrun.esm.checkpoints import CheckpointStore
from localrun.esm.failure import Condition, FailureDestination, SqsDestination
from localrun.esm.lineage import ShardLayout, ShardLayoutError, VirtualShard
from localrun.esm.runner import EventSourceMapping
from localrun.esm.settings import MappingSettings, StartingPosition
from localrun.esm.streamrunner import StreamRunner

__all__ = [
    "CheckpointStore",
    "Condition",
    "EventSourceMapping",
    "FailureDestination",
    "MappingSettings",
    "ShardLayout",
    "ShardLayoutError",
    "SqsDestination",
    "StartingPosition",
    "StreamRunner",
    "VirtualShard",
]
