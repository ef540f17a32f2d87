"""The embedded AWS: a moto server on a free loopback port, in this process.

Everything the local runtime talks to (DynamoDB and its stream in two regions, SQS, CloudWatch)
lives behind one endpoint, so a real client such as the AWS CLI can use it too while the demo runs.

Two properties of moto shape this module:

* Its backends are not thread-safe. Under moto's own threaded server, a TransactWriteItems (which
  deep-copies the table for rollback) fails with "dictionary changed size during iteration" when
  another request writes the same table at that moment: the client sees a 500 and the console a
  traceback. Requests are therefore served one at a time; connections are still accepted
  concurrently, and moto is bound by the GIL anyway.
* Its state belongs to the process, not to a server: two servers in one process (or a server and
  ``mock_aws``) see the same tables. :meth:`EmbeddedServer.start` resets that state, so every run
  begins empty.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

LOOPBACK = "127.0.0.1"

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _OneAtATime:
    """WSGI middleware: the wrapped application runs one request at a time, body included."""

    def __init__(self, app: Wsgi) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class EmbeddedServer:
    """A moto server bound to ``127.0.0.1`` on a port the OS picks (never a fixed, possibly busy one)."""

    def __init__(self) -> None:
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the embedded server is not running: call start() first")
        return self._url

    def start(self) -> EmbeddedServer:
        # moto logs every request through werkzeug; the demo's progress lines are what a user
        # should see.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
        # Port 0: the OS assigns a free port when the socket binds, so there is no race between
        # choosing a port and using it.
        server = make_server(LOOPBACK, 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        self._server = server
        self._url = f"http://{LOOPBACK}:{server.server_port}"
        self.reset()
        return self

    def reset(self) -> None:
        """Forget every resource (tables, queues, metrics): moto's documented reset endpoint."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback http)
            response.read()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._url = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
