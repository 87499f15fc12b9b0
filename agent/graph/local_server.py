"""The local model's server for `LLM_MODEL=local:PATH.gguf`: llama.cpp's OpenAI-compatible
server run inside this process through xllamacpp, on 127.0.0.1 and a port the OS picks.

The chat talks to it with langchain-openai like to any OpenAI-compatible server; the chat service
starts it once and stops it when it closes. xllamacpp (native code, a model in memory) is
imported only here, when a local model is configured.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from agent.errors import LanguageModelError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
# llama.cpp's log threshold: 0 prints nothing but failures, 3 (its default) every step
QUIET, VERBOSE = 0, 3
PROMPT_CACHE_MIB = 256


class LocalModelServer:
    """One GGUF model served on loopback; `start` loads it, `stop` frees the model and the port."""

    def __init__(
        self,
        path: Path,
        *,
        context_tokens: int = 4096,
        threads: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.path = path
        self.context_tokens = context_tokens
        self.threads = threads
        self.verbose = verbose
        self.load_seconds: float | None = None
        self._server: Any = None
        self._address = ""
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the server is up in this process."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (`http://127.0.0.1:PORT/v1`) of the running server."""
        if not self.running:
            raise LanguageModelError("the local model's server is not running")
        return f"{self._address}/v1"

    @property
    def port(self) -> int:
        """The port the running server listens on."""
        return int(self.base_url.removesuffix("/v1").rsplit(":", 1)[1])

    def _params(self, xllamacpp: Any) -> Any:
        params = xllamacpp.CommonParams()
        params.model.path = str(self.path)
        params.hostnames = [HOST]
        params.port = 0  # the OS picks a free port; llama.cpp reports it
        params.n_ctx = self.context_tokens
        params.n_parallel = 1  # one slot: turns queue, and the routing prompt stays cached
        params.cache_ram_mib = PROMPT_CACHE_MIB  # prompts set aside (llama.cpp's default: 8 GB)
        params.verbosity = VERBOSE if self.verbose else QUIET
        if self.threads:
            params.cpuparams.n_threads = self.threads
            params.cpuparams_batch.n_threads = self.threads
        return params

    def start(self) -> str:
        """Load the model and serve it; the base URL. `LanguageModelError` when the file is
        missing, is not a GGUF model, or xllamacpp is not installed."""
        with self._lock:
            if self.running:
                return self.base_url
            if not self.path.is_file():
                raise LanguageModelError(f"no model file at {self.path}")
            try:
                import xllamacpp
            except ImportError:
                raise LanguageModelError(
                    "local models need xllamacpp: pip install xllamacpp"
                ) from None
            started = time.perf_counter()
            try:
                self._server = xllamacpp.Server(self._params(xllamacpp))
            except RuntimeError as exc:  # llama.cpp could not load the file
                raise LanguageModelError(
                    f"llama.cpp could not load {self.path.name}: {exc}"
                ) from exc
            self._address = str(self._server.listening_address).rstrip("/")
            self.load_seconds = time.perf_counter() - started
        log.info("local model %s served at %s", self.path.name, self._address)
        return self.base_url

    def stop(self) -> None:
        """Stop serving and free the model (idempotent); the port is free when it returns."""
        with self._lock:
            server, self._server = self._server, None
            # the native server shuts down when its last reference goes: it waits for its loop
            del server
        log.info("local model %s stopped", self.path.name)
