"""A local news server on 127.0.0.1 serving feed files that tests write into a folder.

Every file under `root` is served at `/<relative path>` with a strong ETag (a hash of its bytes)
and Last-Modified (its mtime), answering 304 to a matching `If-None-Match` or a not-older
`If-Modified-Since`, like a real feed host. Per path, a test can add a delay (a slow host), an
HTTP status (an error page) or a content type. Requests are recorded with their headers and
arrival time (for pacing and conditional-request checks).

    with FeedServer(tmp_path / "feeds") as server:
        (server.root / "news.xml").write_text(rss)
        server.configure("/news.xml", delay=3.0)
        url = server.url("/news.xml")
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

TYPES = {
    ".xml": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/json",
}


@dataclass
class Route:
    """How one path misbehaves (defaults: not at all)."""

    delay: float = 0.0
    status: int | None = None
    content_type: str | None = None
    conditional: bool = True


@dataclass
class Recorded:
    """One request: path (with query), headers, arrival time and the status answered."""

    path: str
    headers: dict[str, str]
    at: float
    status: int = 0


@dataclass
class FeedServer:
    """Threaded HTTP server; use as a context manager."""

    root: Path
    host: str = "127.0.0.1"
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._server = ThreadingHTTPServer((self.host, 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str, host: str | None = None) -> str:
        """Absolute URL of `path` (`host` may be `localhost`: another host for pacing)."""
        return f"http://{host or self.host}:{self.port}{path}"

    def configure(self, path: str, **options: object) -> None:
        """Set delay / status / content_type / conditional for `path`."""
        route = self.routes.setdefault(path, Route())
        for key, value in options.items():
            setattr(route, key, value)

    def hits(self, path: str) -> list[Recorded]:
        """Requests for `path` (query ignored), in arrival order."""
        return [r for r in self.requests if urlsplit(r.path).path == path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                record = Recorded(self.path, dict(self.headers.items()), time.monotonic())
                server.requests.append(record)
                path = urlsplit(self.path).path
                route = server.routes.get(path, Route())
                if route.delay:
                    time.sleep(route.delay)
                file = server.root / path.lstrip("/")
                if route.status is not None:
                    record.status = route.status
                    self._send(route.status, b"<html><body>error</body></html>", "text/html")
                    return
                if not file.is_file():
                    record.status = 404
                    self._send(404, b"not found", "text/plain")
                    return
                body = file.read_bytes()
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                modified = formatdate(int(file.stat().st_mtime), usegmt=True)
                if route.conditional and self._not_modified(etag, int(file.stat().st_mtime)):
                    record.status = 304
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                record.status = 200
                kind = route.content_type or TYPES.get(file.suffix, "application/octet-stream")
                self._send(200, body, kind, {"ETag": etag, "Last-Modified": modified})

            def _not_modified(self, etag: str, mtime: int) -> bool:
                if match := self.headers.get("If-None-Match"):
                    return match == etag
                if since := self.headers.get("If-Modified-Since"):
                    try:
                        return mtime <= parsedate_to_datetime(since).timestamp()
                    except (TypeError, ValueError):
                        return False
                return False

            def _send(
                self, status: int, body: bytes, kind: str, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    return

        return Handler
