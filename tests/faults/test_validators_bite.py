"""The validators are known to bite: a deliberately broken replicator fails them.

Two scenarios run against a writer whose version conditions are broken the two ways that matter
(one accepts any *different* version, older ones included; one writes without any condition):
the out-of-order run of scenario 6 (duplicates, old batches late, newer halves first, then a late
redelivery of the oldest batch), and the outage of scenario 4, whose ``redrive`` replays old
batches after newer changes of the same keys were replicated. The operator CLI's redrive writes
through the same writer, so it is broken too.
"""

from __future__ import annotations

import pytest

from faultlab.rig import FaultRig
from faultlab.sequenced import SequencedWorkload
from faultlab.validate import require
from replicator.core import protocol
from tests.support.scenarios import outage_run, redrive, reordered_run

BROKEN = [
    pytest.param("attribute_not_exists(#v) OR #v <> :v", "#v <> :v", id="accepts-older-versions"),
    pytest.param(
        "attribute_not_exists(#v) OR attribute_exists(#v)",
        "attribute_not_exists(#v) OR attribute_exists(#v)",
        id="writes-without-its-condition",
    ),
]
# The delete keeps its "the item is there" part (#k), so a broken delete still removes only items.
_DELETE = "attribute_exists(#k) AND ({})"


def break_the_writer(monkeypatch, newer: str, older_there: str) -> None:
    monkeypatch.setattr(protocol, "PUT_IF_NEWER", newer)
    monkeypatch.setattr(protocol, "PUT_OVER_OLDER", older_there)
    monkeypatch.setattr(protocol, "DELETE_IF_OLDER", _DELETE.format(newer))


def assert_the_validators_fail(rig: FaultRig, workload: SequencedWorkload) -> None:
    problems = rig.problems(workload.model)
    # the version validator sees accepted writes going backwards (or applied twice) ...
    with pytest.raises(AssertionError, match=r"went backwards|applied twice"):
        require(problems["versions never go backwards"], "versions")
    # ... the final state differs from the source (an old batch delivered late won) ...
    with pytest.raises(AssertionError, match=r"attributes differ|missing in the replica|not in the source"):
        require(problems["replica = source"], "replica = source")
    # ... while the workload itself was right: the source holds exactly what it wrote
    assert problems["ground truth"] == []


@pytest.mark.parametrize(("newer", "older_there"), BROKEN)
def test_out_of_order_delivery_to_a_broken_replicator_fails_the_validators(
    make_rig, monkeypatch, newer, older_there
):
    # GIVEN a writer whose conditions let older (or equal) versions through
    break_the_writer(monkeypatch, newer, older_there)
    # WHEN the out-of-order scenario runs against it
    rig, workload = reordered_run(make_rig)
    # THEN the validators find what it did wrong
    assert_the_validators_fail(rig, workload)


@pytest.mark.parametrize(("newer", "older_there"), BROKEN[:1])
def test_a_redrive_through_a_broken_replicator_fails_the_validators(
    make_rig, monkeypatch, tmp_path, newer, older_there
):
    # GIVEN a broken writer, and batches given up during an outage while later changes replicated
    break_the_writer(monkeypatch, newer, older_there)
    rig, workload = outage_run(make_rig)
    # WHEN the operator redrives them
    redrive(rig, tmp_path)
    # THEN the old batches overwrote newer states, and the validators say so
    assert_the_validators_fail(rig, workload)
