from __future__ import annotations

import re

import pytest

from metrics import handler as entry
from metrics.errors import SettingsError
from metrics.settings import (
    MAX_SEGMENT_VALUES,
    MAX_TRACKED_ATTRIBUTES,
    MergeSettings,
    Settings,
    UsageTable,
    from_environ,
    merge_from_environ,
)
from telemetry import catalogue


def test_defaults_when_nothing_is_set():
    settings = from_environ({})

    assert settings == Settings(
        namespace=catalogue.DEFAULT_USAGE_NAMESPACE,
        user_id_attribute="user_id",
        tracked_attributes=(),
        segment_attribute=None,
        segment_values=(),
    )
    assert not settings.segmented
    assert settings.segments == ()


def test_lists_are_trimmed_and_other_comes_last():
    settings = from_environ(
        {
            "METRICS_NAMESPACE": "Team/Usage",
            "USER_ID_ATTRIBUTE": " account ",
            "TRACKED_ATTRIBUTES": " plan, country ,,app_version",
            "SEGMENT_ATTRIBUTE": "platform",
            "SEGMENT_VALUES": "ios, android,web",
        }
    )

    assert settings.namespace == "Team/Usage"
    assert settings.user_id_attribute == "account"
    assert settings.tracked_attributes == ("plan", "country", "app_version")
    assert settings.segments == ("ios", "android", "web", catalogue.OTHER_SEGMENT)


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        pytest.param(
            {"METRICS_NAMESPACE": "bad namespace!"}, "METRICS_NAMESPACE", "invalid", id="namespace-chars"
        ),
        pytest.param(
            {"METRICS_NAMESPACE": "AWS/DynamoDB"}, "METRICS_NAMESPACE", "reserved", id="aws-namespace"
        ),
        pytest.param({"TRACKED_ATTRIBUTES": "plan,plan"}, "TRACKED_ATTRIBUTES", "twice", id="duplicate"),
        pytest.param({"TRACKED_ATTRIBUTES": "pl\u00e4n"}, "TRACKED_ATTRIBUTES", "ASCII", id="non-ascii"),
        pytest.param(
            {"TRACKED_ATTRIBUTES": ",".join(f"a{i}" for i in range(MAX_TRACKED_ATTRIBUTES + 1))},
            "TRACKED_ATTRIBUTES",
            "at most",
            id="too-many-attributes",
        ),
        pytest.param({"SEGMENT_ATTRIBUTE": "platform"}, "SEGMENT_VALUES", "at least one", id="no-values"),
        pytest.param({"SEGMENT_VALUES": "ios"}, "SEGMENT_VALUES", "SEGMENT_ATTRIBUTE", id="no-attribute"),
        pytest.param(
            {"SEGMENT_ATTRIBUTE": "platform", "SEGMENT_VALUES": "ios,other"},
            "SEGMENT_VALUES",
            "reserved",
            id="other-is-reserved",
        ),
        pytest.param(
            {
                "SEGMENT_ATTRIBUTE": "platform",
                "SEGMENT_VALUES": ",".join(f"s{i}" for i in range(MAX_SEGMENT_VALUES + 1)),
            },
            "SEGMENT_VALUES",
            "at most",
            id="too-many-segments",
        ),
        pytest.param({"USER_ID_ATTRIBUTE": "x" * 251}, "USER_ID_ATTRIBUTE", "longer", id="long-name"),
        pytest.param({"USAGE_TABLE_NAME": "a b"}, "USAGE_TABLE_NAME", "table name", id="usage-table-name"),
        pytest.param(
            {"USAGE_TABLE_NAME": "Users-usage", "USAGE_TABLE_REGION": "moon"},
            "USAGE_TABLE_REGION",
            "region",
            id="usage-region",
        ),
        pytest.param(
            {"USAGE_TABLE_NAME": "Users-usage", "USAGE_ENDPOINT_URL": "localhost:5000"},
            "USAGE_ENDPOINT_URL",
            "http(s) URL",
            id="usage-endpoint",
        ),
        pytest.param(
            {"USAGE_ENDPOINT_URL": "http://localhost:5000"}, "USAGE_ENDPOINT_URL", "not", id="endpoint-alone"
        ),
    ],
)
def test_invalid_settings_name_the_variable(env, variable, words):
    with pytest.raises(SettingsError, match=re.escape(words)) as caught:
        from_environ(env)

    assert caught.value.variable == variable
    assert variable in str(caught.value)


def test_a_bad_environment_is_a_clear_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("SEGMENT_VALUES", "ios")
    monkeypatch.delenv("SEGMENT_ATTRIBUTE", raising=False)
    monkeypatch.setattr(entry, "_handler", None)
    with pytest.raises(SettingsError, match="SEGMENT_VALUES"):
        entry.handler({"Records": []}, None)


def test_the_usage_table_and_the_merge_settings_are_read_with_their_defaults():
    env = {"USAGE_TABLE_NAME": "Users-usage", "SOURCE_TABLE_NAME": "Users"}

    assert from_environ(env).usage_table == UsageTable("Users-usage")
    assert merge_from_environ(env) == MergeSettings(
        from_environ(env), UsageTable("Users-usage"), source_table="Users", grace_seconds=30
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param({"SOURCE_TABLE_NAME": "Users"}, "USAGE_TABLE_NAME", id="no-usage-table"),
        pytest.param({"USAGE_TABLE_NAME": "Users-usage"}, "SOURCE_TABLE_NAME", id="no-source-table"),
        pytest.param(
            {"USAGE_TABLE_NAME": "Users-usage", "SOURCE_TABLE_NAME": "Users", "MERGE_GRACE_SECONDS": "-1"},
            "MERGE_GRACE_SECONDS",
            id="negative-grace",
        ),
    ],
)
def test_the_merge_needs_its_tables_and_a_sane_grace(env, variable):
    with pytest.raises(SettingsError, match=variable):
        merge_from_environ(env)
