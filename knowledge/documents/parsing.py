"""Reading files into `ParsedDocument`s: Markdown (with YAML front matter), text, HTML and PDF.

Front matter keys: `title`, `kind` (guide, coin, news, model_card), `symbols` (tickers, names
or Yahoo symbols), `published_at` (or `published`/`date`). Without front matter the title is
the first heading (or the HTML `<title>`, the PDF's metadata, the file name), the kind is the
caller's default and the symbols are tagged from the text.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from knowledge.documents.models import KINDS, Kind, Origin, ParsedDocument
from knowledge.documents.tagging import normalise_symbols, tag_symbols
from knowledge.errors import DataValidationError

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_ATX_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_SETEXT_H1 = re.compile(r"^(\S[^\n]*)\r?\n=+[ \t]*$", re.MULTILINE)


def files_in(paths: list[Path]) -> list[Path]:
    """The supported files named or found (recursively) under the given paths, sorted."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    found[child.resolve()] = None
        elif path.is_file():
            found[path.resolve()] = None
        else:
            raise DataValidationError(str(path), [(0, "no such file or folder")])
    return list(found)


def content_hash(*parts: bytes | str) -> str:
    """sha256 over the parts (separated, so that ("ab", "c") differs from ("a", "bc"))."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


def parse_datetime(value: Any) -> datetime | None:
    """A timezone-aware datetime from a YAML date, datetime or ISO string (naive = UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip().replace("Z", "+00:00")
        match = re.match(r"D:(\d{4})(\d{2})(\d{2})", text)  # PDF dates: D:20240101...
        if match:
            text = "-".join(match.groups())
        parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def split_front_matter(text: str, where: str = "front matter") -> tuple[dict[str, Any], str]:
    """(front matter mapping, body) of a Markdown text; empty mapping when there is none."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DataValidationError(where, [(1, f"invalid front matter YAML: {exc}")]) from exc
    if not isinstance(meta, dict):
        raise DataValidationError(where, [(1, "front matter must be a mapping")])
    return meta, text[match.end() :]


def first_heading(markdown: str) -> str | None:
    """The first level-1 heading (ATX `# x` or setext `x\\n===`), if any."""
    found = [m for m in (_ATX_H1.search(markdown), _SETEXT_H1.search(markdown)) if m]
    if not found:
        return None
    return min(found, key=lambda m: m.start()).group(1).strip()


def html_to_markdown(html: str) -> tuple[str, str | None, datetime | None]:
    """(Markdown-ish text with headings kept, <title>, published time) of an HTML page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "header", "noscript", "form"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    meta = soup.find("meta", attrs={"property": "article:published_time"})
    published = parse_datetime(meta.get("content")) if meta and meta.get("content") else None
    blocks: list[str] = []
    root = soup.body or soup
    for node in root.find_all(["h1", "h2", "h3", "h4", "p", "li", "pre", "blockquote", "td"]):
        text = node.get_text(" ", strip=True)
        if not text:
            continue
        if node.name in ("h1", "h2", "h3", "h4"):
            blocks.append("#" * int(node.name[1]) + " " + text)
        elif node.name == "li":
            blocks.append("- " + text)
        else:
            blocks.append(text)
    return "\n\n".join(blocks), title, published


def pdf_to_text(path: Path) -> tuple[str, str | None, datetime | None]:
    """(text of every page, metadata title, creation date) of a PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, OSError, ValueError) as exc:
        raise DataValidationError(str(path), [(0, f"unreadable PDF: {exc}")]) from exc
    title = str(info.title).strip() if info and info.title else None
    created = info.get("/CreationDate") if info else None
    try:
        published = parse_datetime(created) if created else None
    except ValueError:
        published = None
    return "\n\n".join(p.strip() for p in pages if p.strip()), title or None, published


def parse_file(
    path: Path, *, source: str, origin: Origin, default_kind: Kind, salt: str = ""
) -> ParsedDocument:
    """Read one supported file; `salt` (chunking settings) is folded into the content hash."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataValidationError(str(path), [(0, f"unsupported file type {suffix or '(none)'}")])
    raw = path.read_bytes()
    meta: dict[str, Any] = {}
    title: str | None = None
    published: datetime | None = None
    if suffix == ".pdf":
        body, title, published = pdf_to_text(path)
    else:
        text = raw.decode("utf-8", errors="replace")
        if suffix in (".html", ".htm"):
            body, title, published = html_to_markdown(text)
        elif suffix == ".txt":
            body = text
        else:
            meta, body = split_front_matter(text, str(path))
            title = first_heading(body)
    return build_document(
        source=source,
        origin=origin,
        body=body,
        meta=meta,
        fallback_title=title or path.stem.replace("_", " ").replace("-", " "),
        fallback_published=published,
        default_kind=default_kind,
        content_hash=content_hash(raw, salt, default_kind),
        where=str(path),
    )


def build_document(
    *,
    source: str,
    origin: Origin,
    body: str,
    meta: dict[str, Any],
    fallback_title: str,
    default_kind: Kind,
    content_hash: str,
    fallback_published: datetime | None = None,
    where: str = "",
) -> ParsedDocument:
    """Apply front matter (or the fallbacks) and tag symbols; validate the kind and date."""
    kind = str(meta.get("kind") or default_kind)
    if kind not in KINDS:
        raise DataValidationError(where or source, [(1, f"kind must be one of {KINDS}")])
    title = str(meta.get("title") or fallback_title).strip()
    raw_date = meta.get("published_at", meta.get("published", meta.get("date")))
    try:
        published = parse_datetime(raw_date) if raw_date else fallback_published
    except ValueError as exc:
        raise DataValidationError(where or source, [(1, f"bad published date: {exc}")]) from exc
    declared = meta.get("symbols")
    if isinstance(declared, str):
        declared = [part.strip() for part in declared.split(",")]
    symbols = normalise_symbols(declared) if declared else tag_symbols(title, body)
    extra = {k: v for k, v in meta.items() if k not in {"title", "kind", "symbols"}}
    return ParsedDocument(
        source=source,
        origin=origin,
        kind=kind,  # type: ignore[arg-type]
        title=title,
        body=body,
        symbols=symbols,
        published_at=published,
        content_hash=content_hash,
        metadata={k: str(v) for k, v in extra.items()},
    )
