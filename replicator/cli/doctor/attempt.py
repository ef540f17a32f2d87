"""How one describe call of the doctor ends: a value, missing, unreadable, or the end of the run.

What AWS refuses (AccessDenied, a call the endpoint does not implement) becomes an
:class:`~replicator.cli.doctor.findings.Unreadable`, which the rules report as a warning naming the
permission. What makes the whole run impossible (no credentials, credentials refused outright, an
endpoint that does not answer) ends it with a :class:`~replicator.cli.errors.CliError` (exit 2),
with the clock's skew when that is the likely cause. The service's clock is read here too, from the
Date header of the first answer (:class:`ClockProbe`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)

from replicator.cli.doctor.findings import Unreadable
from replicator.cli.doctor.views import ClockView
from replicator.cli.errors import CliError
from replicator.cli.sides import Side

T = TypeVar("T")

_MISSING = frozenset(
    {
        "ResourceNotFoundException",
        "TableNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
)
# Codes that mean "these credentials cannot be used here at all": nothing could be checked.
_UNUSABLE = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "RequestExpired",
    }
)


@dataclass
class ClockProbe:
    """The service's Date header and our clock, from the first answer a client gets (even an error)."""

    clock: Callable[[], float]
    view: ClockView | None = None
    _sent: float = field(default=0.0, repr=False)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call", self._before)
        client.meta.events.register("after-call", self._after)

    def _before(self, **_: Any) -> None:
        self._sent = time.monotonic()

    def _after(self, http_response: Any = None, **_: Any) -> None:
        if self.view is not None or http_response is None:
            return
        date = http_response.headers.get("Date") or http_response.headers.get("date")
        if not date:
            return
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        self.view = ClockView(server=server, local=self.clock(), round_trip=time.monotonic() - self._sent)


@dataclass
class Attempt:
    """Runs one describe call for one side; sorts its failure into missing, unreadable or fatal."""

    side: Side
    probe: ClockProbe | None = None

    def __call__(self, call: Callable[[], T], *, what: str, permission: str) -> T | Unreadable | None:
        try:
            return call()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "unknown"))
            if code in _MISSING:
                return None
            if code in _UNUSABLE:
                raise self._fatal(exc, what) from None
            return Unreadable(what, permission, code)
        except NotImplementedError:
            # moto in-process raises this for a call it lacks (e.g. iam:SimulatePrincipalPolicy)
            return Unreadable(what, permission, "not implemented by this endpoint")
        except (EndpointConnectionError, ConnectTimeoutError, NoCredentialsError) as exc:
            raise self._fatal(exc, what) from None
        except BotoCoreError as exc:
            # e.g. a local server's HTML error page for a call it does not implement
            return Unreadable(what, permission, type(exc).__name__)

    def _fatal(self, exc: Exception, what: str) -> CliError:
        problem = self.side.problem(exc, f"reading {what}")
        clock = self.probe.view if self.probe is not None else None
        if clock is not None and abs(clock.skew) > 60:
            return CliError(
                f"{problem}; this machine's clock is {clock.skew:+.0f} s off the service's (its Date "
                "header), and AWS refuses requests signed more than 5 minutes off: synchronise it (NTP)"
            )
        return problem
