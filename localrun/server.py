"""The embedded AWS: a moto server on a free loopback port, in this process.

Everything the local runtime talks to (DynamoDB and its stream in two regions, SQS, CloudWatch)
lives behind one endpoint, so a real client such as the AWS CLI can use it too while the demo runs.

moto keeps its state per process, not per server: two servers in one process (or a server and
``mock_aws``) see the same tables. :meth:`EmbeddedServer.start` therefore resets that state, so every
run begins empty.
"""

from __future__ import annotations

import logging
import urllib.request
from types import TracebackType

from moto.server import ThreadedMotoServer

LOOPBACK = "127.0.0.1"


class EmbeddedServer:
    """A moto server bound to ``127.0.0.1`` on a port the OS picks (never a fixed, possibly busy one)."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the embedded server is not running: call start() first")
        return self._url

    def start(self) -> EmbeddedServer:
        # moto logs every request through werkzeug even with verbose=False; the demo's own progress
        # lines are what a user should see.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # Port 0: the OS assigns a free port when the socket binds, so there is no race between
        # choosing a port and using it.
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._url = f"http://{host}:{port}"
        self.reset()
        return self

    def reset(self) -> None:
        """Forget every resource (tables, queues, metrics): moto's documented reset endpoint."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback http)
            response.read()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            self._url = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
