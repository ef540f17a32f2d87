"""What a check concludes: pass, warn, fail or skip, with the reason and the fix."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

ALL_PASS, FAILED, COULD_NOT_RUN = 0, 1, 2
"""The doctor's exit codes, as ``check``'s: 0 no failure, 1 a failure in the setup, 2 could not run."""


class Status(enum.Enum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    WARN = "warn"
    """Could not be verified (a fact could not be read), or allowed but worth a look."""
    FAIL = "fail"
    SKIP = "skip"
    """Does not apply here (e.g. no Lambda on a local endpoint), with the reason."""


@dataclass(frozen=True, slots=True)
class Finding:
    status: Status
    check: str
    """A short stable id (``stream``, ``key-schema``...): the JSON report and the tests use it."""
    reason: str
    fix: str = ""
    """What to do about it; empty for a pass."""


def passed(check: str, reason: str) -> Finding:
    return Finding(Status.PASS, check, reason)


def failed(check: str, reason: str, fix: str) -> Finding:
    return Finding(Status.FAIL, check, reason, fix)


def warned(check: str, reason: str, fix: str) -> Finding:
    return Finding(Status.WARN, check, reason, fix)


def skipped(check: str, reason: str, fix: str = "") -> Finding:
    return Finding(Status.SKIP, check, reason, fix)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A fact the doctor could not read: AWS refused, or the endpoint does not implement the call."""

    what: str
    """e.g. "the source table's TTL setting"."""
    permission: str
    """The IAM action that reads it, e.g. ``dynamodb:DescribeTimeToLive``."""
    code: str
    """The error code AWS answered (``AccessDeniedException``...), or the exception's type."""

    def finding(self, check: str) -> Finding:
        return warned(
            check,
            f"could not read {self.what} ({self.code}; needs permission {self.permission})",
            f"grant {self.permission} to the credentials the doctor runs with, then run it again",
        )


def exit_code(findings: Iterable[Finding], *, strict: bool = False) -> int:
    """1 when any check failed (or, with ``strict``, warned); else 0. Skips never count."""
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses or (strict and Status.WARN in statuses):
        return FAILED
    return ALL_PASS
