"""The validators are known to bite: a deliberately broken replicator fails them.

The same out-of-order run as scenario 6 (duplicates, old batches late, newer halves first, then a
late redrive of the oldest batch), against a writer whose version conditions are broken the two
ways that matter: one that accepts any *different* version (older ones included), and one that
writes without any condition at all.
"""

from __future__ import annotations

import pytest

from localrun.validate import require
from replicator import writer
from tests.faults.test_ordering import reordered_run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("newer", "older_there"),
    [
        pytest.param("attribute_not_exists(#v) OR #v <> :v", "#v <> :v", id="accepts-older-versions"),
        pytest.param(
            "attribute_not_exists(#v) OR attribute_exists(#v)",
            "attribute_not_exists(#v) OR attribute_exists(#v)",
            id="writes-without-its-condition",
        ),
    ],
)
def test_a_replicator_with_broken_conditions_fails_the_validators(make_rig, monkeypatch, newer, older_there):
    # GIVEN a writer whose conditions let older (or equal) versions through
    monkeypatch.setattr(writer, "_NEWER", newer)
    monkeypatch.setattr(writer, "_OLDER_THERE", older_there)
    # WHEN the out-of-order scenario runs against it
    rig, workload = reordered_run(make_rig)
    problems = rig.problems(workload.model)
    # THEN the version validator sees accepted writes going backwards (or applied twice) ...
    with pytest.raises(AssertionError, match=r"went backwards|applied twice"):
        require(problems["versions never go backwards"], "versions")
    # ... the final state differs from the source (the late redrive of the oldest batch won) ...
    with pytest.raises(AssertionError, match=r"attributes differ|missing in the replica|not in the source"):
        require(problems["replica = source"], "replica = source")
    # ... while the workload itself was right: the source holds exactly what it wrote
    assert problems["ground truth"] == []
