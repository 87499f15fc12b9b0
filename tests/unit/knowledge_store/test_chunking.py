"""Chunking by headings (ATX, setext, not inside code fences), with a size limit and overlap."""

from __future__ import annotations

import itertools

import pytest

from knowledge.documents.chunking import ChunkingConfig, chunk_markdown, sections, split_section

DOC = """# Guide title

Intro paragraph.

## First part

Alpha text.

### Detail

Detail text.

Second part
-----------

Beta text.

```python
# not a heading
x = 1
```
"""


def test_sections_follow_headings_and_skip_the_document_title() -> None:
    found = sections(DOC, "Guide title")
    assert [path for path, _ in found] == ["", "First part", "First part > Detail", "Second part"]
    assert "# not a heading" in found[-1][1]  # inside a fence: text, not a heading


def test_setext_titles_and_headings() -> None:
    text = "My Paper\n========\n\nAbstract here.\n\nMethods\n-------\n\nWe did things.\n"
    assert sections(text, "My Paper") == [("", "Abstract here."), ("Methods", "We did things.")]


def test_a_thematic_break_is_not_a_heading() -> None:
    text = "## Part\n\nOne.\n\n---\n\nTwo.\n"
    assert [p for p, _ in sections(text)] == ["Part"]


def test_long_sections_are_split_with_sentence_overlap() -> None:
    sentences = [f"Sentence number {i} says something about volatility." for i in range(60)]
    config = ChunkingConfig(max_chars=400, overlap=120)
    pieces = split_section(" ".join(sentences), config)
    assert len(pieces) > 3
    assert all(len(p) <= config.max_chars + config.overlap for p in pieces)
    for before, after in itertools.pairwise(pieces):
        first_of_next = after.split(". ")[0] + "."
        assert first_of_next in before  # the next chunk starts with the tail of this one
    joined = " ".join(pieces)
    assert all(s in joined for s in sentences)  # nothing lost


def test_chunks_are_numbered_in_order() -> None:
    chunks = chunk_markdown(DOC, "Guide title", ChunkingConfig())
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert chunks[0].section == "" and chunks[0].text == "Intro paragraph."


def test_a_short_tail_joins_the_previous_chunk() -> None:
    body = ("Long sentence about markets and prices. " * 20) + "Tail."
    pieces = split_section(body, ChunkingConfig(max_chars=300, overlap=60))
    assert pieces[-1].endswith("Tail.") and len(pieces[-1]) > len("Tail.")


@pytest.mark.parametrize(("size", "overlap"), [(50, 10), (400, 300), (400, -1)])
def test_bad_settings_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        ChunkingConfig(max_chars=size, overlap=overlap)


def test_settings_change_the_signature() -> None:
    assert ChunkingConfig(1200, 200).signature != ChunkingConfig(1000, 200).signature
