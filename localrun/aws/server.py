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
* It keeps a reference to every model object it ever creates (``moto.core.model_instances``, for
  its ``/moto-api/data.json`` dashboard), including the copy of each table TransactWriteItems makes
  for rollback. Without clearing that list after each request, a replicator writing through
  transactions grows the process by the size of the replica table per write (measured: 2.4 GB
  after 1,500 transactions on a 150-item table; 175 MB flat with the list cleared).
"""

from __future__ import annotations

import io
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from moto.core.model_instances import reset_model_data
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from localrun.aws import cloudwatch

LOOPBACK = "127.0.0.1"

log = logging.getLogger(__name__)

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RequestTap = Callable[[Mapping[str, Any], bytes, int], None]
"""Told of each request moto answered: (WSGI environ, request body, HTTP status), in the order moto
served them (the fault-injection suite records the writes the replica accepted this way)."""


class _OneAtATime:
    """WSGI middleware: the wrapped application runs one request at a time, body included."""

    def __init__(self, app: Wsgi, tap: RequestTap | None = None) -> None:
        self._app = app
        self._tap = tap
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            try:
                return self._serve(environ, start_response)
            finally:
                reset_model_data()  # forget moto's dashboard references (see the module's docstring)

    def _serve(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if self._tap is None:
            return list(self._app(environ, start_response))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        statuses: list[int] = []

        def recording(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        answer = list(self._app(environ, recording))
        try:
            # Still under the lock: the tap sees requests in exactly the order they took effect.
            self._tap(environ, body, statuses[-1] if statuses else 500)
        except Exception:  # a broken observer must not break the endpoint
            log.exception("request tap failed")
        return answer


class EmbeddedServer:
    """A moto server bound to ``127.0.0.1`` on a port the OS picks (never a fixed, possibly busy one)."""

    def __init__(self, *, tap: RequestTap | None = None) -> None:
        self._tap = tap
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
        cloudwatch.install()  # ListMetrics and GetMetricStatistics as CloudWatch answers them
        app = _OneAtATime(DomainDispatcherApplication(create_backend_app), self._tap)
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
