"""The ecosystem's checks on the synthesized app: cdk-nag, cfn-lint, and our least-privilege rules."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.support.cdk_app import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")

VARIANTS = ["cdk_default", "cdk_all_options", "cdk_imported_table", "cdk_far_replica_expire"]

# Every finding we acknowledge, with where; a new acknowledgement must be added here on purpose.
EXPECTED_ACKNOWLEDGEMENTS = {
    "AwsSolutions::AwsSolutions-SQS3": "FailureQueue",
    "Serverless::Serverless-SQSRedrivePolicy": "FailureQueue",
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "/Role",
    "AwsSolutions::AwsSolutions-L1": "/Function",
    "Serverless::Serverless-LambdaLatestVersion": "/Function",
    "Serverless::Serverless-LambdaDLQ": "/Function",
    "Serverless::Serverless-SNSRedrivePolicy": "Monitoring/AlarmTopic",
    # The usage merge runs on a schedule: a failed run's work is done by the next one.
    "Serverless::Serverless-LambdaAsyncFailureDestination": "UsageMerge/Function",
    "Serverless::Serverless-EventBusDLQ": "UsageMerge/EveryMinute",
    # The export check (all options): a bucket without access logs, and the job role's prefixes.
    "AwsSolutions::AwsSolutions-S1": "Exports/Bucket",
    "AwsSolutions::AwsSolutions-IAM5[Resource::<ExportsBucket.Arn>/exports/*]": "Spark/JobRole",
    "AwsSolutions::AwsSolutions-IAM5[Resource::<ExportsBucket.Arn>/code/*]": "Spark/JobRole",
    "AwsSolutions::AwsSolutions-IAM5[Resource::<ExportsBucket.Arn>/results/*]": "Spark/JobRole",
    "AwsSolutions::AwsSolutions-IAM5[Resource::<ExportsBucket.Arn>/logs/*]": "Spark/JobRole",
}
# W3005 (redundant DependsOn): CDK makes each function depend on its role *and* the role's
# policy; the role dependency is also implied by the GetAtt of its ARN. Harmless, and not ours.
CFN_LINT_IGNORED = ["W3005"]
# Resource "*" is allowed only for actions that support no resource-level permissions and touch
# no data. Everything DynamoDB, SQS and KMS must name its resource.
STAR_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}


def _unhashed(acknowledgement: str) -> str:
    """An acknowledgement id without the hash CDK appends to a logical id (``<ExportsBucket54D5CE64.Arn>``
    becomes ``<ExportsBucket.Arn>``)."""
    return re.sub(r"<([A-Za-z0-9]+?)[0-9A-F]{8}\.", r"<\1.", acknowledgement)


def _nag_report(synthesized: Synthesized) -> dict[str, Any]:
    # The policy-validation report is written on every synth that has the nag plugins attached.
    report: dict[str, Any] = json.loads((synthesized.outdir / "validation-report.json").read_text())
    return report


@pytest.mark.parametrize("variant", VARIANTS)
def test_cdk_nag_finds_nothing_unacknowledged(variant, request):
    # GIVEN an app synthesized with the AwsSolutions and Serverless packs (a finding would have
    # raised ValidationFailed in the fixture already)
    synthesized: Synthesized = request.getfixturevalue(variant)
    report = _nag_report(synthesized)
    # THEN both packs ran and passed
    assert {plugin["pluginName"]: plugin["conclusion"] for plugin in report["pluginReports"]} == {
        "AwsSolutions": "success",
        "Serverless": "success",
    }
    for plugin in report["pluginReports"]:
        assert plugin.get("violations", []) == []
        # AND every acknowledgement is one we meant, where we meant it, with a written reason
        for suppressed in plugin.get("suppressedViolations", []):
            ack = _unhashed(suppressed["acknowledgedId"])
            assert ack in EXPECTED_ACKNOWLEDGEMENTS, f"unexpected acknowledgement {ack}"
            assert EXPECTED_ACKNOWLEDGEMENTS[ack] in suppressed["acknowledgedAt"]
            assert len(suppressed["reason"].split()) >= 15, f"{ack}: reason too thin"


def test_every_expected_acknowledgement_is_still_needed(cdk_all_options, cdk_default):
    used = {
        _unhashed(suppressed["acknowledgedId"])
        for synthesized in (cdk_default, cdk_all_options)
        for plugin in _nag_report(synthesized)["pluginReports"]
        for suppressed in plugin.get("suppressedViolations", [])
    }
    assert used == set(EXPECTED_ACKNOWLEDGEMENTS), "drop acknowledgements whose finding is gone"


@pytest.mark.parametrize("variant", VARIANTS)
def test_cfn_lint_passes_on_every_template(variant, request):
    synthesized: Synthesized = request.getfixturevalue(variant)
    templates = synthesized.templates()
    assert len(templates) == (3 if synthesized.config.export_check else 2)
    for name, (region, template) in templates.items():
        matches = lint(
            json.dumps(template), config=ManualArgs(regions=[region], ignore_checks=CFN_LINT_IGNORED)
        )
        assert [str(match) for match in matches] == [], name


def _policy_statements(template: Mapping[str, Any]):
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            documents = [props["PolicyDocument"]]
        elif resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                yield logical_id, statement


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_star_resource_on_data_actions_and_no_managed_policies(variant, request):
    synthesized: Synthesized = request.getfixturevalue(variant)
    for name, (_, template) in synthesized.templates().items():
        for logical_id, statement in _policy_statements(template):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            assert not any("*" in action for action in actions), f"{name} {logical_id}: wildcard in {actions}"
            if "*" in resources:
                assert set(actions) <= STAR_ALLOWED, f"{name} {logical_id}: {actions} on '*'"
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::IAM::Role":
                assert "ManagedPolicyArns" not in resource["Properties"], (
                    f"{name}: AWS-managed policy attached"
                )
            assert resource["Type"] != "AWS::IAM::ManagedPolicy"


def test_stream_read_is_granted_on_that_stream_only(cdk_default: Synthesized):
    template = cdk_default.source.to_json()
    stream_reads = [
        statement
        for _, statement in _policy_statements(template)
        if "dynamodb:GetRecords" in statement["Action"]
    ]
    assert len(stream_reads) == 2  # one per consumer
    for statement in stream_reads:
        assert statement["Resource"] == {"Fn::GetAtt": [statement["Resource"]["Fn::GetAtt"][0], "StreamArn"]}
        assert statement["Resource"]["Fn::GetAtt"][0].startswith("SourceTable")
