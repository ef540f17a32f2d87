"""Acknowledging a cdk-nag finding, always with the reason it does not apply."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge ``rule_id`` (e.g. ``AwsSolutions-SQS3``) on ``scope`` and everything below it.

    cdk-nag 3 reports findings as ``<pack>::<rule>``; the pack is the rule id's prefix.
    """
    if len(reason.split()) < 8:
        raise ValueError(f"acknowledging {rule_id} needs a written reason, not {reason!r}")
    pack = rule_id.split("-", 1)[0]
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{pack}::{rule_id}", reason=reason))
