"""Hugging Face text-classification backend (torch on CPU), loaded once, offline only.

The model is a local folder or a model id already in the local Hugging Face cache; it is never
downloaded at run time (`local_files_only=True`, hub offline), so a missing model fails at once
with a message saying how to provide it instead of hanging on the network. Each model's labels
are mapped onto bearish/neutral/bullish: by name (finbert: positive/negative/neutral,
cryptobert: Bullish/Bearish/Neutral) from the config's `id2label`, or by an explicit
`label_map` when a model only has generic LABEL_0.. names.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.sentiment.base import (
    AnalyzerUnavailableError,
    Label,
    Score,
    from_probabilities,
    normalise_label,
)

log = logging.getLogger(__name__)
DEFAULT_MODEL = "ProsusAI/finbert"


def is_local_path(model: str) -> bool:
    """True when `model` names an existing folder (rather than a hub id)."""
    return Path(model).expanduser().is_dir()


def locally_available(model: str) -> bool:
    """Whether `model` can be loaded without a network: a folder with a config, or a cached id."""
    if is_local_path(model):
        return (Path(model).expanduser() / "config.json").is_file()
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(model, "config.json")
    except ValueError:  # not a valid repo id
        return False
    return isinstance(found, str)


def resolve_label_map(
    id2label: Mapping[int, str], override: Mapping[str, str] | None = None
) -> dict[str, Label]:
    """The model's output label names -> bearish/neutral/bullish.

    `override` maps a model label (`LABEL_0`) or its id (`"0"`) to one of the three; otherwise
    each name must be a known synonym. Any unmapped label is an error naming the labels found.
    """
    mapping: dict[str, Label] = {}
    unknown: list[str] = []
    for index, name in id2label.items():
        wanted = None
        if override:
            wanted = override.get(name, override.get(str(index)))
        label = normalise_label(wanted) if wanted else normalise_label(name)
        if label is None:
            unknown.append(f"{index}={name}")
        else:
            mapping[name] = label
    if unknown:
        raise AnalyzerUnavailableError(
            f"cannot map model labels {', '.join(unknown)} to bearish/neutral/bullish; "
            "configure a label map such as LABEL_0=bearish,LABEL_1=neutral,LABEL_2=bullish"
        )
    if not {"bearish", "bullish"} <= set(mapping.values()):
        raise AnalyzerUnavailableError(
            f"model labels {sorted(mapping)} do not include both a bearish and a bullish class"
        )
    return mapping


class TransformersAnalyzer:
    """A text-classification pipeline scoring texts as P(bullish) - P(bearish)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        batch_size: int = 16,
        max_length: int = 256,
        label_map: Mapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self.name = f"transformers:{model}"
        self.batch_size = batch_size
        self.max_length = max_length
        self._override = dict(label_map) if label_map else None
        self._pipeline: Any = None
        self._labels: dict[str, Label] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load tokenizer and model once (thread-safe); raise `AnalyzerUnavailableError` if absent."""
        with self._lock:
            if self._pipeline is not None:
                return
            if not locally_available(self.model):
                raise AnalyzerUnavailableError(
                    f"sentiment model {self.model!r} is not available locally (no folder with a "
                    "config.json, and not in the Hugging Face cache "
                    f"{os.environ.get('HF_HOME', '~/.cache/huggingface')}); it is never downloaded "
                    "at run time: fetch it on a connected machine or point SENTIMENT_MODEL at a "
                    "local folder"
                )
            self._pipeline, self._labels = self._build()

    def _build(self) -> tuple[Any, dict[str, Label]]:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import transformers
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        source = str(Path(self.model).expanduser()) if is_local_path(self.model) else self.model
        try:
            # local_files_only: nothing is downloaded, so there is no revision to pin
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)  # nosec B615
            model = AutoModelForSequenceClassification.from_pretrained(  # nosec B615
                source, local_files_only=True
            )
        except (OSError, ValueError, KeyError) as exc:
            raise AnalyzerUnavailableError(
                f"sentiment model {self.model!r} could not be loaded from local files: {exc}"
            ) from exc
        model.eval()
        labels = resolve_label_map(model.config.id2label, self._override)
        classify = pipeline(
            "text-classification", model=model, tokenizer=tokenizer, device=-1, top_k=None
        )
        log.info("sentiment model %s loaded (labels %s)", self.model, labels)
        return classify, labels

    def analyze(self, texts: Sequence[str]) -> list[Score]:
        """Scores in batches; long texts are truncated to `max_length` tokens."""
        if not texts:
            return []
        self.load()
        with self._lock:  # a pipeline is not safe to share between threads
            outputs = self._pipeline(
                [t if t.strip() else "." for t in texts],
                batch_size=self.batch_size,
                truncation=True,
                max_length=self.max_length,
            )
        return [self._to_score(row) for row in outputs]

    def _to_score(self, row: list[dict[str, Any]] | dict[str, Any]) -> Score:
        entries = row if isinstance(row, list) else [row]
        probabilities: dict[Label, float] = {}
        for entry in entries:
            label = self._labels.get(str(entry["label"]))
            if label is None:
                raise AnalyzerUnavailableError(f"the model returned unknown label {entry['label']}")
            probabilities[label] = probabilities.get(label, 0.0) + float(entry["score"])
        return from_probabilities(probabilities)


def parse_label_map(text: str | None) -> dict[str, str] | None:
    """`"LABEL_0=bearish, LABEL_1=neutral"` -> a dict (None when empty); bad parts raise ValueError."""
    if not text or not text.strip():
        return None
    mapping: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or normalise_label(value) is None:
            raise ValueError(f"label map entries look like LABEL_0=bearish, not {part.strip()!r}")
        mapping[key.strip()] = value.strip().lower()
    return mapping
