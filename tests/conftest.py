"""What every tier needs: a safe AWS environment, the Hypothesis profiles, a marker per tier.

Nothing here imports moto, boto3 or the CDK: the unit tier loads this file too and must stay pure.
The moto fixtures live in ``tests/support/aws.py`` and the CDK ones in ``tests/support/cdk_app.py``;
the conftest of each tier that needs them imports them.

botocore >= 1.44 sends DynamoDB Streams calls to an account-specific endpoint that moto's
in-process mock does not route; account-id endpoint mode must be off before any client exists.
"""

from __future__ import annotations

import os

os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# `make mutate` runs the same tests once per mutant: the same examples every time (derandomized, no
# example database), so a mutant's verdict does not depend on the run that happened to find it.
settings.register_profile(
    "mutation",
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # a verdict needs a failure, not a minimal one
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TESTS = Path(__file__).parent
# The folder says what a test needs; the marker of the same name lets ``-m`` pick tiers.
TIERS = ("unit", "integration", "property", "cdk", "e2e", "faults")


def tier_of(path: Path) -> str | None:
    """The tier folder a test file sits in (None outside ``tests/<tier>/``)."""
    parts = path.relative_to(TESTS).parts
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item.path)
        if tier is None:
            raise pytest.UsageError(f"{item.nodeid}: every test lives in one of tests/{{{','.join(TIERS)}}}/")
        item.add_marker(getattr(pytest.mark, tier))
