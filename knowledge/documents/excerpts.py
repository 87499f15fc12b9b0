"""Excerpts of retrieved passages for offline answers: the sentences that answer a question.

Retrieved text is data. Sentences that address an assistant (ignore your instructions, reveal a
key, call a tool, change role) are never quoted: `looks_like_instruction` finds them so that a
composer can leave them out and say so.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9$*])")
_WORD = re.compile(r"[a-z0-9%$]+")
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has",
    "have", "how", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "the", "their",
    "there", "this", "to", "was", "what", "when", "where", "which", "who", "why", "will", "with",
    "you", "your", "about", "into", "than", "that", "then", "these", "they", "those", "tell",
    "explain", "mean", "means",
})  # fmt: skip
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompt|guidelines)\b"
    r"|\b(reveal|print|show|leak|send|output|disclose)\b.{0,40}"
    r"\b(key|password|secret|token|credentials?|system prompt)\b"
    r"|\b(call|invoke|execute|trigger)\b.{0,25}\btools?\b|\b(call|invoke)\s+(the\s+)?function\b"
    r"|\brun\s+(this|the following)\s+command\b"
    r"|\byou are now\b|\bsystem prompt\b|\bdeveloper mode\b|\bnew instructions\b"
    r"|\bas an ai\b|\bassistant[,:]\s",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_instruction(sentence: str) -> bool:
    """True when a sentence gives orders to an assistant rather than stating facts."""
    return bool(_INSTRUCTION.search(sentence))


def _stem(word: str) -> str:
    """A crude suffix strip, enough to match "capped" with "cap" and "exists" with "exist"."""
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    return word


def terms(text: str) -> set[str]:
    """Content words of a text, lower case, crudely stemmed."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def sentences(text: str) -> list[str]:
    """The sentences of a passage, Markdown markers and line breaks flattened."""
    flat = re.sub(r"^\s{0,3}(#+|[-*+]|\d+\.)\s+", "", text, flags=re.MULTILINE)
    flat = re.sub(r"\s+", " ", flat.replace("**", "").replace("`", "")).strip()
    return [s.strip() for s in _SENTENCE.split(flat) if s.strip()]


def excerpt(question: str, text: str, limit: int = 3, max_chars: int = 600) -> tuple[str, int]:
    """(The sentences of `text` that best match `question`, in their original order; the number
    of instruction-like sentences left out). Falls back to the opening sentences."""
    wanted = terms(question)
    candidates = sentences(text)
    kept = [(i, s) for i, s in enumerate(candidates) if not looks_like_instruction(s)]
    dropped = len(candidates) - len(kept)
    scored = sorted(kept, key=lambda pair: (-len(terms(pair[1]) & wanted), pair[0]))
    chosen = scored[:limit] if wanted and scored and terms(scored[0][1]) & wanted else kept[:limit]
    out = ""
    for _, sentence in sorted(chosen):
        if out and len(out) + len(sentence) > max_chars:
            break
        out = f"{out} {sentence}".strip()
    if len(out) > max_chars:
        out = out[: max_chars - 3].rsplit(" ", 1)[0] + "..."
    return out, dropped
