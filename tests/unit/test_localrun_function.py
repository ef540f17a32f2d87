"""One Lambda invoke: the context, timeouts, errors, JSON responses, and per-invocation output."""

from __future__ import annotations

import sys
import threading
from typing import Any

from localrun.invoke.capture import OutputRouter
from localrun.invoke.function import (
    EXIT_ERROR,
    MARSHAL_ERROR,
    TIMEOUT_ERROR,
    Function,
    Handler,
    Invocation,
    invoke,
)


def test_the_handler_gets_a_lambda_context():
    seen: dict[str, Any] = {}

    def handler(event, context):
        seen.update(
            name=context.function_name,
            arn=context.invoked_function_arn,
            memory=context.memory_limit_in_mb,
            request=context.aws_request_id,
            remaining=context.get_remaining_time_in_millis(),
        )
        return {"ok": True}

    result = invoke(
        Function("Users-replicator", handler, timeout_seconds=5, memory_mb=1024), {}, router=OutputRouter()
    )
    assert result.response == {"ok": True} and not result.failed
    assert seen["name"] == "Users-replicator"
    assert seen["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:Users-replicator"
    assert seen["memory"] == 1024
    assert seen["request"] == result.request_id
    assert 4000 < seen["remaining"] <= 5000


def test_an_exception_is_a_function_error_with_its_traceback_in_the_log():
    def handler(event, context):
        raise KeyError("missing")

    result = invoke(Function("f", handler), {}, router=OutputRouter())
    assert (result.error_type, result.response) == ("KeyError", None)
    assert any("Traceback" in line for line in result.output)


def test_a_runtime_that_exits_mid_invocation_is_a_function_error_not_a_success():
    # GIVEN a handler whose runtime dies part-way (SystemExit is not an Exception)
    def handler(event, context):
        print("started")
        sys.exit(1)

    # WHEN it is invoked
    router = OutputRouter()
    with router.installed():
        result = invoke(Function("f", handler), {}, router=router)
    # THEN the invocation failed, as Lambda reports Runtime.ExitError, and nothing counts as a response
    assert (result.error_type, result.response, result.failed) == (EXIT_ERROR, None, True)
    assert result.output == ("started",)


def test_a_timeout_fails_without_waiting_for_the_handler():
    # GIVEN a handler that runs until the test releases it, long after the function's timeout
    release = threading.Event()
    finished = threading.Event()

    def handler(event, context):
        release.wait(60)  # a bound, so a runtime that waits for it cannot hang the suite
        finished.set()
        return {"late": True}

    # WHEN it is invoked with a timeout of 0.1 s
    result = invoke(Function("f", handler, timeout_seconds=0.1), {}, router=OutputRouter())
    # THEN the invocation timed out while the handler was still running: invoke did not wait for it
    handler_was_running = not finished.is_set()
    release.set()
    assert handler_was_running
    assert result.error_type == TIMEOUT_ERROR and result.timed_out
    assert result.response is None


def test_a_response_that_is_not_json_is_a_marshal_error():
    result = invoke(Function("f", lambda event, ctx: {"when": object()}), {}, router=OutputRouter())
    assert result.error_type == MARSHAL_ERROR


def test_each_invocation_gets_only_what_it_printed():
    # GIVEN two functions printing at the same time, with the router installed
    barrier = threading.Barrier(2)

    def chatty(word: str) -> Handler:
        def handler(event: dict[str, Any], context: Any) -> None:
            barrier.wait(5)
            for i in range(50):
                print(f"{word} {i}")
            sys.stdout.write(f"{word} done\n")
            return None

        return handler

    router = OutputRouter()
    results: dict[str, Invocation] = {}
    with router.installed():
        threads = [
            threading.Thread(
                target=lambda w=w: results.__setitem__(w, invoke(Function(w, chatty(w)), {}, router=router))
            )
            for w in ("alpha", "beta")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # THEN each invocation's output holds its own lines only, in order
    for word in ("alpha", "beta"):
        assert list(results[word].output) == [f"{word} {i}" for i in range(50)] + [f"{word} done"]


def test_output_outside_invocations_passes_through(capsys):
    router = OutputRouter()
    with router.installed():
        print("from the main thread")
    assert "from the main thread" in capsys.readouterr().out
    assert sys.stdout is not None and not hasattr(sys.stdout, "passthrough")
