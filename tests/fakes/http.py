"""The local HTTP server the fake services share: a threaded server on 127.0.0.1, on a free port.

A fake subclasses `LocalHTTPServer` (or `RecordingHTTPServer`, which also keeps every request it
receives) and handles requests with a `QuietHandler` subclass, which reaches the fake as
`self.server.fake`:

    class _Handler(QuietHandler):
        server: FakeHTTPServer

        def do_GET(self) -> None:
            self.send_json(200, self.server.fake.answer(self.path))

    class FakeThing(LocalHTTPServer):
        def __init__(self) -> None:
            super().__init__(_Handler, name="fake-thing", path="/v1")

    with FakeThing() as server:
        client = Client(base_url=server.base_url)  # http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

R = TypeVar("R")


class FakeHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server holding a reference to the fake it serves for."""

    daemon_threads = True
    block_on_close = False
    fake: Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (tests read what the fake recorded) and speaks JSON."""

    server: FakeHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read what the fake recorded instead of a log."""

    def read_body(self) -> bytes:
        """The request body, as long as its `Content-Length` says (empty without one)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_body(
        self,
        status: int,
        content_type: str,
        body: bytes,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Answer `status` with `body`; if the client has gone (timeout), close the connection."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_json(self, status: int, payload: Any) -> None:
        """Answer `status` with `payload` as JSON."""
        self.send_body(status, "application/json", json.dumps(payload).encode())


class LocalHTTPServer:
    """A fake's server lifecycle: `start()` binds a free port on 127.0.0.1 and serves from a
    daemon thread, `stop()` frees it; as a context manager, it serves for the `with` block."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        server: type[FakeHTTPServer] = FakeHTTPServer,
        *,
        name: str,
        path: str = "",
    ) -> None:
        self._handler_class = handler
        self._server_class = server
        self._thread_name = name
        self._path = path
        self._server: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        server = self._server_class(("127.0.0.1", 0), self._handler_class)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self._thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def _stopping(self) -> None:
        """Called first by `stop()`: a fake holding requests releases them here."""

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._stopping()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT` of the running server, followed by the fake's path."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self._path}"


class RecordingHTTPServer(LocalHTTPServer, Generic[R]):
    """A `LocalHTTPServer` that keeps every request its handler records (`_record`).

    `_lock` guards the records; a fake uses it for the rest of its shared state too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._requests: list[R] = []

    @property
    def requests(self) -> list[R]:
        """Every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    def _record(self, request: R) -> None:
        with self._lock:
            self._requests.append(request)
