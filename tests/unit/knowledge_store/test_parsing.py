"""Reading Markdown (front matter), text, HTML and PDF files into documents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.documents.parsing import files_in, parse_file, split_front_matter
from knowledge.errors import DataValidationError


def _parse(path: Path, kind: str = "guide") -> object:
    return parse_file(path, source=str(path), origin="file", default_kind=kind)  # type: ignore[arg-type]


def test_front_matter_sets_title_kind_symbols_and_date(tmp_path: Path) -> None:
    path = tmp_path / "eth.md"
    path.write_text(
        "---\ntitle: Ether notes\nkind: coin\nsymbols: [eth, Solana]\npublished_at: 2024-03-01\n"
        "---\n# Ignored heading\n\nBody.\n"
    )
    doc = _parse(path)
    assert doc.title == "Ether notes" and doc.kind == "coin"  # type: ignore[attr-defined]
    assert doc.symbols == ("ETH-USD", "SOL-USD")  # type: ignore[attr-defined]
    assert doc.published_at == datetime(2024, 3, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    assert doc.body.startswith("# Ignored heading")  # type: ignore[attr-defined]


def test_without_front_matter_the_heading_titles_and_the_text_tags(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text(
        "Litecoin basics\n===============\n\nLitecoin (LTC) copies Bitcoin. LTC is fast.\n"
    )
    doc = _parse(path)
    assert doc.title == "Litecoin basics"  # type: ignore[attr-defined]
    assert doc.symbols == ("LTC-USD",)  # type: ignore[attr-defined]


def test_html_keeps_headings_and_drops_scripts(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Staking</title><script>alert(1)</script>"
        '<meta property="article:published_time" content="2024-05-02T10:00:00Z"></head>'
        "<body><h2>Rewards</h2><p>Validators earn rewards.</p></body></html>"
    )
    doc = _parse(path)
    assert doc.title == "Staking"  # type: ignore[attr-defined]
    assert "## Rewards" in doc.body and "alert" not in doc.body  # type: ignore[attr-defined]
    assert doc.published_at == datetime(2024, 5, 2, 10, tzinfo=UTC)  # type: ignore[attr-defined]


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF showing `text` in Helvetica."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    path = tmp_path / "halving_notes.pdf"
    path.write_bytes(_pdf("The halving cuts the block subsidy."))
    doc = _parse(path)
    assert "halving cuts the block subsidy" in doc.body  # type: ignore[attr-defined]
    assert doc.title == "halving notes"  # type: ignore[attr-defined]


def test_text_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("plain words")
    (tmp_path / "b.md").write_text("# B\n\nx")
    (tmp_path / "c.csv").write_text("not,indexed")
    found = files_in([tmp_path])
    assert [p.name for p in found] == ["b.md", "a.txt"]
    assert _parse(found[1]).body == "plain words"  # type: ignore[attr-defined]


def test_bad_inputs_are_reported(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError):
        files_in([tmp_path / "missing"])
    bad_kind = tmp_path / "k.md"
    bad_kind.write_text("---\nkind: rumour\n---\ntext")
    with pytest.raises(DataValidationError):
        _parse(bad_kind)
    with pytest.raises(DataValidationError):
        split_front_matter("---\n[unclosed\n---\nbody")


def test_the_hash_follows_content_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text("# X\n\nsame")
    first = parse_file(path, source="s", origin="file", default_kind="guide", salt="a")
    again = parse_file(path, source="s", origin="file", default_kind="guide", salt="a")
    other = parse_file(path, source="s", origin="file", default_kind="guide", salt="b")
    assert first.content_hash == again.content_hash != other.content_hash
