"""Errors the operator sees: each names what was wrong, with which input, and what to do next.

Every :class:`CliError` ends the command with exit code 2 and one line on standard error, never a
traceback. None of them quotes an attribute value.
"""

from __future__ import annotations


class CliError(Exception):
    """Base class: the command cannot go on; the message tells the operator why."""


class UsageError(CliError):
    """An option is missing, malformed or contradicts another one."""


class TableProblem(CliError):
    """A table does not exist, or the two tables do not have the same key schema."""


class AccessProblem(CliError):
    """A side cannot be reached: no credentials, refused credentials, or an endpoint that does not answer."""


class ReadFailed(CliError):
    """Reads kept failing (throttling, errors) beyond the retry budget; nothing was skipped."""


class ThirdReaderRefused(CliError):
    """Reading the stream would make this command a third reader of a shard that serves two."""


class StateFileProblem(CliError):
    """The backfill state file cannot be read, or belongs to another backfill."""


class UnknownFailureMessage(ValueError):
    """A failure-destination message that is not Lambda's DynamoDB stream invocation record."""
