"""Chunking: split a Markdown body by its headings, then each section by size with overlap.

Headings are ATX (`## Title`) or setext (`Title` underlined by `===` or `---`); lines inside
fenced code blocks are never headings. Each chunk carries its section path (`Proof-of-Work`,
`How to read it > Divergence`), without the document's own title. A section longer than
`max_chars` is cut at paragraph, then sentence, then word boundaries; each following piece
starts with the last sentences of the previous one, up to `overlap` characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.documents.models import ChunkDraft

_ATX = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT = re.compile(r"^(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9$])")


@dataclass(frozen=True)
class ChunkingConfig:
    """Size limit and overlap, in characters."""

    max_chars: int = 1200
    overlap: int = 200

    def __post_init__(self) -> None:
        if self.max_chars < 100:
            raise ValueError("max_chars must be at least 100")
        if not 0 <= self.overlap < self.max_chars // 2:
            raise ValueError("overlap must be between 0 and half of max_chars")

    @property
    def signature(self) -> str:
        """Folded into content hashes, so a change of settings re-chunks every document."""
        return f"chunk:v1:{self.max_chars}:{self.overlap}"


def sections(markdown: str, title: str = "") -> list[tuple[str, str]]:
    """(section path, body text) pairs in document order; empty sections are dropped."""
    lines = markdown.splitlines()
    stack: list[tuple[int, str]] = []
    out: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False

    def open_section(level: int, heading: str) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        names = [h for lvl, h in stack if not (lvl == 1 and h.strip() == title.strip())]
        out.append((" > ".join(names), []))

    index = 0
    while index < len(lines):
        line = lines[index]
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            atx = _ATX.match(line)
            underline = lines[index + 1] if index + 1 < len(lines) else ""
            if atx:
                open_section(len(atx.group(1)), atx.group(2).strip())
                index += 1
                continue
            if line.strip() and not line.startswith((" ", "\t", "-", "*", "|", ">")):
                setext = _SETEXT.match(underline)
                if setext and (setext.group(1)[0] == "=" or len(setext.group(1)) >= 3):
                    open_section(1 if setext.group(1)[0] == "=" else 2, line.strip())
                    index += 2
                    continue
        out[-1][1].append(line)
        index += 1
    result = []
    for path, body in out:
        text = "\n".join(body).strip()
        if text:
            result.append((path, text))
    return result


def _units(text: str, max_chars: int) -> list[tuple[str, bool]]:
    """Sentences (cut further when longer than `max_chars`): (text, starts a paragraph)."""
    units: list[tuple[str, bool]] = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        paragraph = paragraph.strip("\n")
        if not paragraph.strip():
            continue
        pieces = _SENTENCE_END.split(paragraph)
        first = True
        for piece in pieces:
            while len(piece) > max_chars:  # a run-on sentence: cut at the last space that fits
                cut = piece.rfind(" ", 0, max_chars)
                cut = cut if cut > max_chars // 2 else max_chars
                units.append((piece[:cut].strip(), first))
                piece, first = piece[cut:].strip(), False
            if piece.strip():
                units.append((piece, first))
                first = False
    return units


def _count(units: list[tuple[str, bool]], fresh_chars: int) -> int:
    """How many trailing units make up `fresh_chars` (as counted while packing)."""
    total, count = 0, 0
    for piece, _ in reversed(units):
        if total >= fresh_chars:
            break
        total += len(piece) + 2
        count += 1
    return count


def _join(units: list[tuple[str, bool]]) -> str:
    text = ""
    for piece, starts_paragraph in units:
        text += ("\n\n" if starts_paragraph else " ") + piece if text else piece
    return text


def split_section(text: str, config: ChunkingConfig) -> list[str]:
    """One section's text as pieces of at most `max_chars` (+ `overlap` when a short remainder
    is kept with its neighbour), overlapping by whole sentences."""
    if len(text) <= config.max_chars:
        return [text]
    units = _units(text, config.max_chars)
    chunks: list[list[tuple[str, bool]]] = []
    current: list[tuple[str, bool]] = []
    size = 0
    fresh = 0  # characters in `current` that are not overlap carried from the previous chunk
    for unit in units:
        # a short remainder (under `overlap`) is kept with the next unit instead of standing alone
        if fresh > config.overlap and size + len(unit[0]) + 2 > config.max_chars:
            chunks.append(current)
            carried: list[tuple[str, bool]] = []
            carried_size = 0
            budget = min(config.overlap, config.max_chars - len(unit[0]) - 2)
            for previous in reversed(current[1:]):  # never the whole previous chunk again
                if carried_size + len(previous[0]) > budget:
                    break
                carried.insert(0, previous)
                carried_size += len(previous[0]) + 1
            current, size, fresh = carried, carried_size, 0
        current.append(unit)
        size += len(unit[0]) + 2
        fresh += len(unit[0]) + 2
    if chunks and 0 < fresh <= config.overlap:  # a short tail joins the chunk before it
        chunks[-1] = chunks[-1] + current[len(current) - _count(current, fresh) :]
    elif fresh:
        chunks.append(current)
    return [_join(chunk) for chunk in chunks]


def chunk_markdown(markdown: str, title: str, config: ChunkingConfig) -> list[ChunkDraft]:
    """Every chunk of a document, numbered in order."""
    drafts: list[ChunkDraft] = []
    for path, body in sections(markdown, title):
        for piece in split_section(body, config):
            drafts.append(ChunkDraft(ordinal=len(drafts), section=path, text=piece))
    return drafts
