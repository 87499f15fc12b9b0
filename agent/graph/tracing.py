"""LangSmith tracing: one trace per turn when `LANGSMITH_TRACING=true`, nothing sent otherwise.

Every node, tool call and LLM call becomes a child run of the turn's root run; inputs, outputs
and metadata pass through the redactor (`agent.guards.redaction`), which removes the configured
secrets and secret-looking keys.
"""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from agent.guards.redaction import Redactor, settings_secrets
from agent.settings import Settings

log = logging.getLogger(__name__)


class Tracing:
    """Builds the LangSmith callback for a turn, or nothing when tracing is off."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.langsmith_tracing
        self.project = settings.langsmith_project
        self.redact = Redactor(settings_secrets(settings))
        self.client: Any = None
        if self.enabled:
            from langsmith import Client

            key = settings.langsmith_api_key
            self.client = Client(
                api_url=settings.langsmith_endpoint or None,
                api_key=key.get_secret_value() if key else None,
                hide_inputs=self.redact,
                hide_outputs=self.redact,
                hide_metadata=self.redact,
            )

    def callbacks(self) -> list[BaseCallbackHandler]:
        """The tracer for one turn (empty when tracing is off)."""
        if not self.enabled:
            return []
        from langchain_core.tracers.langchain import LangChainTracer

        return [LangChainTracer(project_name=self.project, client=self.client)]

    def flush(self) -> None:
        """Send what is buffered (end of a turn in tests; shutdown in production)."""
        if self.client is not None:
            try:
                self.client.flush()
            except Exception as exc:  # tracing must never break the assistant
                log.warning("LangSmith flush failed: %s", exc)
