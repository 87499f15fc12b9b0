"""The disclosure guard: an answer never shows a secret or repeats the system prompt.

Configured secrets and secret-looking strings are replaced by `[redacted]`, and every sentence
repeating the system prompt (eight or more words in a row, case and punctuation ignored) is
withheld, with a short note saying so. It runs before the grounding check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from pydantic import BaseModel

from agent.guards.grounding import remove_sentences

SHINGLE_WORDS = 8
_WORD = re.compile(r"[a-z0-9]+", re.IGNORECASE)


class DisclosureVerdict(BaseModel):
    """What the disclosure guard changed: secrets redacted, sentences of the prompt withheld."""

    redacted: int = 0
    withheld: int = 0


@lru_cache(maxsize=8)
def _shingles(text: str, allowed: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """Every run of `SHINGLE_WORDS` words of the text, never across an allowed phrase (computed
    once per prompt: the guard checks every answer and every tool argument against it)."""
    lowered = text.lower()
    for phrase in allowed:
        lowered = lowered.replace(phrase.lower(), "\n\n")
    found: set[tuple[str, ...]] = set()
    for segment in lowered.split("\n\n"):
        words = _WORD.findall(segment)  # already lower case
        found.update(
            tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
        )
    return frozenset(found)


def _repeated_spans(text: str, instructions: str, allowed: Sequence[str]) -> list[tuple[int, int]]:
    """Character spans of `text` where `SHINGLE_WORDS` words in a row repeat `instructions`."""
    prompt = _shingles(instructions, tuple(allowed))
    words = [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
    return [
        (words[i][1], words[i + SHINGLE_WORDS - 1][2])
        for i in range(len(words) - SHINGLE_WORDS + 1)
        if tuple(w for w, _, _ in words[i : i + SHINGLE_WORDS]) in prompt
    ]


def repeats_instructions(text: str, instructions: str, allowed: Sequence[str] = ()) -> bool:
    """Whether `text` repeats `SHINGLE_WORDS` or more words of `instructions` in a row."""
    return bool(_repeated_spans(text, instructions, allowed))


def guard_disclosure(
    answer: str,
    redact: Callable[[str], str],
    instructions: str,
    allowed: Sequence[str],
    withheld_note: str,
) -> tuple[str, DisclosureVerdict]:
    """The answer with secrets redacted and sentences repeating `instructions` withheld.

    `redact` replaces secrets (configured values and secret-looking strings) with a marker;
    `allowed` phrases of the instructions (such as the risk note) may be repeated.
    """
    before = answer.count("[redacted]")
    answer = redact(answer)
    redacted = answer.count("[redacted]") - before
    spans = _repeated_spans(answer, instructions, allowed)
    if not spans:
        return answer, DisclosureVerdict(redacted=redacted)
    body, withheld = remove_sentences(answer, spans)
    answer = f"{body}\n\n{withheld_note}" if body else withheld_note
    return answer, DisclosureVerdict(redacted=redacted, withheld=withheld)
