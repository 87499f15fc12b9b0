"""A LangSmith capture endpoint on 127.0.0.1: the real `langsmith.Client` sends traces to it.

It answers what langsmith 0.15's client calls while tracing:

- `GET /info`: server version, `batch_ingest_config` (multipart ingestion) and `instance_flags`
  (`zstd_compression_enabled`, so the client compresses like it does against the real API);
- `POST /runs/multipart`: multipart/form-data, zstd- or gzip-compressed when `Content-Encoding`
  says so; parts are `post.<id>` / `patch.<id>` (the run without its large fields) and
  `post.<id>.inputs|outputs|extra|events|error|serialized`;
- `POST /runs/batch` (`{"post": [...], "patch": [...]}`), `POST /runs` and `PATCH /runs/<id>`.

Every request is kept with its raw and decoded (decompressed) body, for grepping secrets, and
every run is merged by id (a patch completes its post, whichever arrives first).

    with FakeLangSmith() as capture:
        settings = make_settings(langsmith_tracing=True, langsmith_endpoint=capture.base_url,
                                 langsmith_api_key="lsv2_pt_...")
        ...  # one chat turn
        runs = capture.wait_for_trace(result.trace_id, {"understand", "ground_check"})
        assert capture.run(result.trace_id)["extra"]["metadata"]["thread_id"] == "t-1"
        assert all(b"lsv2_pt_" not in body for body in capture.bodies())
"""

from __future__ import annotations

import email.parser
import email.policy
import gzip
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.http import FakeHTTPServer, QuietHandler, RecordingHTTPServer

try:
    import zstandard
except ImportError:  # pragma: no cover - langsmith then sends uncompressed multipart
    zstandard = None  # type: ignore[assignment]


@dataclass
class CapturedRequest:
    """One request received: method, path, lower-cased headers, raw and decoded body."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: bytes


def _decode(raw: bytes, encoding: str) -> bytes:
    """The body without its content encoding (zstd or gzip)."""
    encoding = encoding.strip().lower()
    if encoding == "zstd":
        if zstandard is None:
            raise RuntimeError("a zstd-compressed body arrived but zstandard is not installed")
        with zstandard.ZstdDecompressor().stream_reader(raw) as reader:
            return reader.read()
    if encoding == "gzip":
        return gzip.decompress(raw)
    return raw


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """(name, payload) of each part of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts: list[tuple[str, bytes]] = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append((str(name), payload if isinstance(payload, bytes) else b""))
    return parts


class _Server(FakeHTTPServer):
    fake: FakeLangSmith


class _Handler(QuietHandler):
    server: _Server

    def read_body(self) -> bytes:
        """The body, also when it comes in chunks (`Transfer-Encoding: chunked`)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return super().read_body()

    def _handle(self) -> None:
        fake = self.server.fake
        raw = self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = _decode(raw, headers.get("content-encoding", ""))
        except Exception as exc:  # keep what arrived, report the failure to the test
            fake.errors.append(f"{self.command} {self.path}: cannot decode body: {exc}")
            body = raw
        fake._record(CapturedRequest(self.command, self.path, headers, raw, body))
        path = self.path.split("?")[0].rstrip("/")
        try:
            status, answer = fake._route(self.command, path, headers, body)
        except Exception as exc:
            fake.errors.append(f"{self.command} {self.path}: {type(exc).__name__}: {exc}")
            status, answer = 400, {"detail": str(exc)}
        self.send_json(status, answer)

    do_GET = _handle
    do_POST = _handle
    do_PATCH = _handle
    do_PUT = _handle


class FakeLangSmith(RecordingHTTPServer[CapturedRequest]):
    """The capture server; `runs` are the merged runs, `requests` everything received.

    `base_url` is `http://127.0.0.1:PORT`, the value for `LANGSMITH_ENDPOINT`.
    """

    def __init__(self, *, compression: bool = True, version: str = "0.11.0-fake") -> None:
        super().__init__(_Handler, _Server, name="fake-langsmith")
        self.compression = compression and zstandard is not None
        self.version = version
        self._runs: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []

    # ----- what was captured -----

    @property
    def runs(self) -> list[dict[str, Any]]:
        """Every run received (post merged with its patches), in order of first arrival."""
        with self._lock:
            return [dict(run) for run in self._runs.values()]

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run by id, or None."""
        with self._lock:
            found = self._runs.get(str(run_id))
            return dict(found) if found is not None else None

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The runs of one trace."""
        return [r for r in self.runs if str(r.get("trace_id")) == str(trace_id)]

    def bodies(self) -> list[bytes]:
        """Every request body, decoded (decompressed), for grepping."""
        return [r.body for r in self.requests]

    def raw_bodies(self) -> list[bytes]:
        """Every request body as it arrived on the wire."""
        return [r.raw for r in self.requests]

    def wait_until(self, predicate: Callable[[FakeLangSmith], bool], timeout: float = 5.0) -> bool:
        """Poll until `predicate(self)` holds (the client sends from background threads)."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def wait_for_trace(
        self, trace_id: str, names: set[str] | None = None, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """The runs of a trace once its root has ended and every named run has arrived."""

        def complete(fake: FakeLangSmith) -> bool:
            runs = fake.trace(trace_id)
            root = fake.run(trace_id)
            ended = root is not None and root.get("end_time") is not None
            return ended and (names or set()) <= {str(r.get("name")) for r in runs}

        self.wait_until(complete, timeout)
        return self.trace(trace_id)

    # ----- ingestion -----

    def _info(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "license_expiration_time": None,
            "batch_ingest_config": {
                "use_multipart_endpoint": True,
                "scale_up_qsize_trigger": 1000,
                "scale_up_nthreads_limit": 16,
                "scale_down_nempty_trigger": 4,
                "size_limit": 100,
                "size_limit_bytes": 20_971_520,
            },
            "instance_flags": {"zstd_compression_enabled": self.compression},
        }

    def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if method == "GET" and path == "/info":
            return 200, self._info()
        if method == "POST" and path == "/runs/multipart":
            self._ingest_multipart(body, headers.get("content-type", ""))
            return 202, {}
        if method == "POST" and path == "/runs/batch":
            batch = json.loads(body or b"{}")
            for run in batch.get("post") or []:
                self._merge("post", run)
            for run in batch.get("patch") or []:
                self._merge("patch", run)
            return 202, {}
        if method == "POST" and path == "/runs":
            self._merge("post", json.loads(body))
            return 202, {}
        if method == "PATCH" and path.startswith("/runs/"):
            self._merge("patch", {**json.loads(body), "id": path.removeprefix("/runs/")})
            return 202, {}
        return 404, {"detail": f"the capture server does not serve {method} {path}"}

    def _ingest_multipart(self, body: bytes, content_type: str) -> None:
        grouped: dict[tuple[str, str], dict[str, Any]] = {}
        for name, payload in parse_multipart(body, content_type):
            operation, _, rest = name.partition(".")
            run_id, _, field = rest.partition(".")
            if operation not in ("post", "patch") or not run_id:
                continue  # attachments and anything else are only kept raw
            run = grouped.setdefault((operation, run_id), {"id": run_id})
            value = json.loads(payload) if payload else None
            if field:
                run[field] = value
            elif isinstance(value, dict):
                run.update(value)
        for (operation, _), run in grouped.items():
            self._merge(operation, run)

    def _merge(self, operation: str, run: dict[str, Any]) -> None:
        run_id = str(run["id"])
        fields = {k: (str(v) if k in ("id", "trace_id", "parent_run_id") and v else v)
                  for k, v in run.items()}  # fmt: skip
        with self._lock:
            existing = self._runs.get(run_id)
            if existing is None:
                self._runs[run_id] = fields
            elif operation == "post":  # a patch arrived first: it has the newer values
                self._runs[run_id] = {
                    **fields,
                    **{k: v for k, v in existing.items() if v is not None},
                }
            else:
                existing.update({k: v for k, v in fields.items() if v is not None})
