"""Replicator settings fail fast with a message naming the variable."""

from __future__ import annotations

import pytest

from replicator import handler as entry
from replicator.core.errors import ConfigurationError
from replicator.core.policy import TtlPolicy
from replicator.settings import from_environ

BASE = {"REPLICA_TABLE_NAME": "Users", "REPLICA_REGION": "eu-west-1"}


def test_defaults():
    s = from_environ(BASE)
    assert s.state_table == "Users-replication-state"
    assert s.ttl_policy is TtlPolicy.REPLICATE
    assert s.exclude_attributes == frozenset()
    assert s.role_arn is None and s.endpoint_url is None
    assert s.max_concurrent_writes == 64


def test_all_settings_are_read():
    s = from_environ(
        {
            **BASE,
            "REPLICA_ENDPOINT_URL": "http://127.0.0.1:5000",
            "REPLICA_ROLE_ARN": "arn:aws:iam::210987654321:role/replica-writer",
            "TTL_DELETES": "skip",
            "EXCLUDE_ATTRIBUTES": " email, phone ,,",
            "STATE_TABLE_NAME": "custom-state",
            "MAX_CONCURRENT_WRITES": "8",
        }
    )
    assert s.exclude_attributes == frozenset({"email", "phone"})
    assert s.ttl_policy is TtlPolicy.SKIP
    assert s.state_table == "custom-state"
    assert s.max_concurrent_writes == 8


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param({"REPLICA_REGION": "eu-west-1"}, "REPLICA_TABLE_NAME", id="no-table"),
        pytest.param({"REPLICA_TABLE_NAME": "Users"}, "REPLICA_REGION", id="no-region"),
        pytest.param({**BASE, "REPLICA_REGION": "europe"}, "REPLICA_REGION", id="bad-region"),
        pytest.param({**BASE, "TTL_DELETES": "archive"}, "TTL_DELETES", id="bad-ttl-policy"),
        pytest.param({**BASE, "REPLICA_ROLE_ARN": "replica-writer"}, "REPLICA_ROLE_ARN", id="bad-role"),
        pytest.param(
            {**BASE, "REPLICA_ENDPOINT_URL": "localhost:5000"}, "REPLICA_ENDPOINT_URL", id="bad-url"
        ),
        pytest.param({**BASE, "MAX_CONCURRENT_WRITES": "many"}, "MAX_CONCURRENT_WRITES", id="bad-number"),
        pytest.param({**BASE, "EXCLUDE_ATTRIBUTES": "repl:version"}, "EXCLUDE_ATTRIBUTES", id="exclude-meta"),
        pytest.param({**BASE, "REPLICA_TABLE_NAME": "a b"}, "REPLICA_TABLE_NAME", id="bad-table-name"),
    ],
)
def test_a_missing_or_invalid_setting_names_the_variable(env, variable):
    with pytest.raises(ConfigurationError, match=variable):
        from_environ(env)


def test_a_bad_setting_fails_the_invocation_naming_the_variable(monkeypatch):
    monkeypatch.setattr(entry, "_handler", None)
    monkeypatch.delenv("REPLICA_TABLE_NAME", raising=False)
    monkeypatch.setenv("REPLICA_REGION", "eu-west-1")
    with pytest.raises(ConfigurationError, match="REPLICA_TABLE_NAME"):
        entry.handler({"Records": []}, None)


def test_ttl_deletes_may_expire_in_the_replica():
    assert from_environ({**BASE, "TTL_DELETES": "expire"}).ttl_policy is TtlPolicy.EXPIRE
