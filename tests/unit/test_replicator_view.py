"""What of an item the replica holds (``replicator.core.view``), shared by the replicator and the check."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deployconfig.config import ConfigError, from_context
from replicator.core.errors import ConfigurationError, MetadataCollision
from replicator.core.schema import VERSION_ATTRIBUTE
from replicator.core.view import ItemView, is_replicated, never_replicated, replicated_view
from replicator.settings import from_environ

VERSION = {VERSION_ATTRIBUTE: {"S": "0" * 39 + "7"}}


def test_the_replicated_view_leaves_out_excluded_and_legacy_global_table_attributes():
    # GIVEN a source item with an excluded attribute and one written by legacy global tables
    item = {"id": {"S": "a"}, "plan": {"S": "pro"}, "secret": {"S": "s"}, "aws:rep:updateregion": {"S": "x"}}
    # WHEN the replicator takes what it writes
    view = replicated_view(item, frozenset({"secret"}))
    # THEN only the replicated attributes remain
    assert view == {"id": {"S": "a"}, "plan": {"S": "pro"}}


def test_a_source_item_with_the_version_attribute_cannot_be_replicated():
    with pytest.raises(MetadataCollision, match="reserved for the replicator"):
        replicated_view({"id": {"S": "a"}, **VERSION})


def test_the_replica_side_drops_the_version_excluded_legacy_and_ignored_attributes():
    # GIVEN a replica item written before "secret" was excluded, with a volatile "last_seen"
    replica: dict[str, dict[str, Any]] = {
        "id": {"S": "a"},
        "secret": {"S": "s"},
        "last_seen": {"N": "5"},
        "aws:rep:deleting": {"BOOL": True},
    }
    view = ItemView(excluded=frozenset({"secret"}), ignored=frozenset({"last_seen"}))
    # THEN only what a comparison looks at remains
    assert view.of_replica({**replica, **VERSION}) == {"id": {"S": "a"}}
    assert view.of_source(replica) == {"id": {"S": "a"}}


def test_ignored_attributes_are_not_checked_but_are_still_replicated():
    item = {"id": {"S": "a"}, "last_seen": {"N": "5"}}
    assert "last_seen" in replicated_view(item)
    assert "last_seen" not in ItemView(ignored=frozenset({"last_seen"})).of_source(item)


NAMES = st.sampled_from(["id", "plan", "secret", "last_seen", "aws:rep:updatetime", "aws:rep:deleting", "x"])
VALUES = st.sampled_from([{"S": "a"}, {"N": "1"}, {"BOOL": False}, {"NULL": True}])
ITEMS = st.dictionaries(NAMES, VALUES, max_size=7)
NAME_SETS = st.frozensets(NAMES, max_size=3)


@given(ITEMS, NAME_SETS, NAME_SETS)
def test_what_the_replicator_writes_is_what_the_check_expects(item, excluded, ignored):
    # GIVEN any source item and any exclusions and ignored attributes
    view = ItemView(excluded, ignored)
    # WHEN the replicator writes its replicated view with its version
    written = {**replicated_view(item, excluded), **VERSION}
    # THEN the check sees the replica agree with the source
    assert view.of_replica(written) == view.of_source(item)
    assert all(is_replicated(name, excluded) and name not in ignored for name in view.of_source(item))


def test_the_version_and_legacy_attributes_can_never_be_excluded():
    assert never_replicated(["plan", VERSION_ATTRIBUTE, "aws:rep:updatetime"]) == [
        VERSION_ATTRIBUTE,
        "aws:rep:updatetime",
    ]
    assert never_replicated(["plan", "aws:other"]) == []


@pytest.mark.parametrize("name", [VERSION_ATTRIBUTE, "aws:rep:deleting"])
def test_the_replicator_and_the_deployment_refuse_to_exclude_them_naming_their_setting(name):
    # Before, only the replicator refused: a deployment synthesised and its function then failed.
    with pytest.raises(ConfigurationError, match="EXCLUDE_ATTRIBUTES must not name"):
        from_environ(
            {"REPLICA_TABLE_NAME": "Users", "REPLICA_REGION": "eu-west-1", "EXCLUDE_ATTRIBUTES": name}
        )
    with pytest.raises(ConfigError, match="context 'excludeAttributes' must not name"):
        from_context({"excludeAttributes": f"plan,{name}"}.get)
