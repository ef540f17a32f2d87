"""``python -m localrun run``: the consumers outside Lambda, on an existing table's stream."""

from __future__ import annotations

import json
import threading
import time

import pytest

from localrun.aws.clients import AwsClients
from localrun.errors import LocalRunError
from localrun.invoke import handlers as parts
from localrun.serve import ServeOptions, serve
from tests.support.aws import put_items
from tests.support.deployed import deploy


def _checkpointed(path) -> set[str]:
    """The sequence numbers the checkpoint file has recorded, one per shard of every mapping."""
    if not path.exists():
        return set()
    mappings = json.loads(path.read_text())["mappings"]
    return {entry.get("sequenceNumber") for shards in mappings.values() for entry in shards.values()}


def _serve_until(regions, options, expected: int) -> dict[str, int]:
    stop = threading.Event()
    result: dict[str, dict[str, int]] = {}
    worker = threading.Thread(
        target=lambda: result.__setitem__(
            "counts",
            serve(
                regions.config,
                options,
                components=parts.load(),
                clients=AwsClients(),
                stop=stop,
                say=lambda _: None,
            ),
        )
    )
    worker.start()
    # Done means replicated *and* checkpointed: stopping between the two would rightly make the next
    # run deliver the batch again (at least once), and the counts below would differ.
    last = max((record["dynamodb"]["SequenceNumber"] for record in regions.tap.read_raw()), key=int)
    deadline = time.monotonic() + 120  # a bound on waiting for the outcome, not a speed check
    while time.monotonic() < deadline:
        replicated = len(regions.replica.scan(TableName="Users")["Items"]) >= expected
        if replicated and last in _checkpointed(options.checkpoints):
            break
        time.sleep(0.1)
    stop.set()
    worker.join(20)
    return result["counts"]


def test_the_replicator_runs_on_the_stream_and_resumes_from_its_checkpoint_file(regions, tmp_path):
    # GIVEN changes on the source table's stream
    options = ServeOptions(checkpoints=tmp_path / "checkpoints.json", progress_every=0.2)
    put_items(regions, 5)
    # WHEN the consumers run outside Lambda
    first = _serve_until(regions, options, expected=5)
    # THEN the replica has every item, and a restart only processes what is new
    assert first == {"Users-replicator": 5}
    put_items(regions, 2, start=5)
    second = _serve_until(regions, options, expected=7)
    assert second == {"Users-replicator": 2}
    assert len(regions.replica.scan(TableName="Users")["Items"]) == 7


def test_an_unknown_function_is_refused(regions):
    with pytest.raises(ValueError, match="unknown function"):
        serve(
            regions.config,
            ServeOptions(functions=("everything",)),
            components=parts.load(),
            clients=AwsClients(),
            stop=threading.Event(),
        )


def _serve_once(regions, options, said: list[str]) -> dict[str, int]:
    """Start the consumers and stop them at once (the stop event is already set)."""
    stop = threading.Event()
    stop.set()
    return serve(
        regions.config, options, components=parts.load(), clients=AwsClients(), stop=stop, say=said.append
    )


def test_run_refuses_to_be_a_third_reader_of_a_stream_two_mappings_read(regions, tmp_path):
    # GIVEN the deployed stack's two mappings on the stream
    deploy(regions)
    # WHEN the replicator is started outside Lambda on the same stream
    # THEN it refuses, naming the mappings and the flag that overrides it
    with pytest.raises(
        LocalRunError, match=r"2 event source mapping\(s\) already read it .*--allow-third-reader"
    ):
        _serve_once(regions, ServeOptions(checkpoints=tmp_path / "c.json"), [])


def test_run_told_it_may_be_a_third_reader_starts_and_says_so(regions, tmp_path):
    deploy(regions)
    said: list[str] = []
    options = ServeOptions(checkpoints=tmp_path / "c.json", allow_third_reader=True)
    assert _serve_once(regions, options, said) == {}
    assert any("(--allow-third-reader): all are throttled" in line for line in said)


def test_two_consumers_beside_one_mapping_are_one_reader_too_many(regions, tmp_path):
    # GIVEN one mapping on the stream (the usage metrics' deleted)
    deployed = deploy(regions)
    deployed.lambda_.delete_event_source_mapping(UUID=deployed.mappings["Users-usage-metrics"])
    # THEN the replicator alone may start, both consumers may not
    assert _serve_once(regions, ServeOptions(checkpoints=tmp_path / "c.json"), []) == {}
    both = ServeOptions(checkpoints=tmp_path / "c.json", functions=("replicator", "metrics"))
    with pytest.raises(LocalRunError, match=r"python -m localrun run \(replicator, metrics\) would throttle"):
        _serve_once(regions, both, [])
