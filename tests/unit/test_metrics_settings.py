from __future__ import annotations

import re

import pytest

from metrics import handler as entry
from metrics.errors import SettingsError
from metrics.settings import MAX_SEGMENT_VALUES, MAX_TRACKED_ATTRIBUTES, Settings, from_environ
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
