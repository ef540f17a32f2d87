"""Run tasks on a few threads and stop them all, at a page boundary, when one fails or on Ctrl-C."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait


class Stopped(Exception):
    """Raised inside a task that noticed the stop signal; never reaches the operator."""


def run_all(tasks: Sequence[Callable[[threading.Event], None]], *, workers: int, name: str) -> None:
    """Run every task (each receives the shared stop event, to check between pages).

    The first error, or a KeyboardInterrupt in the main thread, sets the stop event; the other
    tasks finish the page they are on, and the error is raised again here.
    """
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
    futures: list[Future[None]] = [pool.submit(task, stop) for task in tasks]
    try:
        wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.done() and f.exception() is not None for f in futures):
            stop.set()
        wait(futures)
    except BaseException:  # Ctrl-C while waiting: let every task end its page, then stop
        stop.set()
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    errors = [error for error in (f.exception() for f in futures) if error is not None]
    real = [error for error in errors if not isinstance(error, Stopped)]
    if real:
        raise real[0]


def check_stop(stop: threading.Event) -> None:
    if stop.is_set():
        raise Stopped
