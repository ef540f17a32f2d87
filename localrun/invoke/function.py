"""A function as the event source mapping sees it, and one synchronous invoke with Lambda's rules.

The handler runs in a worker thread. A Python thread cannot be killed, so when the timeout passes
the invocation counts as failed (``Sandbox.Timedout``, as Lambda reports it) and whatever the thread
does afterwards is ignored: its response is never used and its output is dropped, because Lambda
would have stopped the sandbox. The response goes through JSON, as it does in Lambda, so a handler
that returns something JSON cannot carry fails here too (``Runtime.MarshalError``).
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localrun.invoke.capture import OutputRouter
from localrun.invoke.lambda_context import DEFAULT_ACCOUNT, LambdaContext, function_arn

Handler = Callable[[dict[str, Any], LambdaContext], Any]
HandlerFactory = Callable[[Mapping[str, str]], Handler]
"""``create_handler(environ)``: the convention both consumers' handler modules follow."""

TIMEOUT_ERROR = "Sandbox.Timedout"
MARSHAL_ERROR = "Runtime.MarshalError"
EXIT_ERROR = "Runtime.ExitError"


@dataclass(frozen=True, slots=True)
class Function:
    """Name, code and limits of one Lambda function."""

    name: str
    handler: Handler
    timeout_seconds: float = 3.0
    memory_mb: int = 128
    region: str = "us-east-1"
    account: str = DEFAULT_ACCOUNT

    @property
    def arn(self) -> str:
        return function_arn(self.name, self.region, self.account)


@dataclass(frozen=True, slots=True)
class Invocation:
    """What one invoke produced: a JSON response, or an error type (never both)."""

    request_id: str
    response: Any
    error_type: str | None
    error_message: str | None
    duration_ms: float
    output: tuple[str, ...] = field(default=())
    """Lines the handler printed (its log stream); empty when it timed out."""

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    @property
    def timed_out(self) -> bool:
        return self.error_type == TIMEOUT_ERROR


@dataclass(slots=True)
class _Result:
    response: Any = None
    error_type: str | None = None
    error_message: str | None = None
    trace: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _run(
    handler: Handler, event: dict[str, Any], context: LambdaContext, router: OutputRouter, out: _Result
) -> None:
    with router.collect() as collector:
        try:
            raw = handler(event, context)
            try:
                out.response = json.loads(json.dumps(raw))
            except (TypeError, ValueError) as exc:
                out.error_type, out.error_message = MARSHAL_ERROR, f"response is not JSON: {exc}"
        except Exception as exc:  # a handler's failure is data for the event source mapping
            out.error_type, out.error_message = type(exc).__name__, str(exc)
            out.trace = traceback.format_exc().splitlines()
        except BaseException as exc:  # SystemExit and the like: in Lambda the runtime process dies
            out.error_type = EXIT_ERROR
            out.error_message = f"Runtime exited ({type(exc).__name__})"
        finally:
            out.lines = collector.lines()


def invoke(
    function: Function,
    event: dict[str, Any],
    *,
    router: OutputRouter,
    clock: Callable[[], float] = time.monotonic,
) -> Invocation:
    """Run the handler once with the function's timeout, as a synchronous Lambda invoke."""
    started = clock()
    context = LambdaContext(
        function_name=function.name,
        memory_limit_in_mb=function.memory_mb,
        invoked_function_arn=function.arn,
        deadline=started + function.timeout_seconds,
        clock=clock,
    )
    result = _Result()
    worker = threading.Thread(
        target=_run,
        args=(function.handler, event, context, router, result),
        name=f"lambda:{function.name}:{context.aws_request_id[:8]}",
        daemon=True,  # a timed-out handler must not keep the process alive
    )
    worker.start()
    worker.join(function.timeout_seconds)
    duration_ms = (clock() - started) * 1000
    if worker.is_alive():
        return Invocation(
            request_id=context.aws_request_id,
            response=None,
            error_type=TIMEOUT_ERROR,
            error_message=f"Task timed out after {function.timeout_seconds:.2f} seconds",
            duration_ms=duration_ms,
        )
    return Invocation(
        request_id=context.aws_request_id,
        response=result.response if result.error_type is None else None,
        error_type=result.error_type,
        error_message=result.error_message,
        duration_ms=duration_ms,
        output=(*result.lines, *result.trace),
    )
