"""Telegram text: the agent's light markdown to Telegram HTML, message splitting, reply bodies.

Everything that reaches Telegram goes through `html.escape` first, so user or tool text can never
open a tag; the only tags sent are the ones made here (`b`, `i`, `code`), always balanced per line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from agent.offline import formatting as fmt

MAX_MESSAGE = 4096
"""Telegram's limit on one message's text (measured here on the HTML, which is never shorter)."""


_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC_UNDERSCORE = re.compile(r"(?<![\w*])_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)")
_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|\s+|[^<&\s]+|[<&]")
_TAG_NAME = re.compile(r"</?([a-zA-Z]+)")


def escape(text: str) -> str:
    """Escape `<`, `>` and `&` for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def _inline(segment: str) -> str:
    """Bold and italic markers of an already escaped segment (no code inside)."""
    segment = _BOLD.sub(r"<b>\1</b>", segment)
    segment = _ITALIC_UNDERSCORE.sub(r"<i>\1</i>", segment)
    return _ITALIC_STAR.sub(r"<i>\1</i>", segment)


def _line_to_html(line: str) -> str:
    heading = _HEADING.match(line)
    bullet = _BULLET.match(line) if heading is None else None
    body = heading[1] if heading else bullet[2] if bullet else line
    parts = []
    for segment in _CODE_SPAN.split(body):
        if segment.startswith("`") and segment.endswith("`") and len(segment) > 2:
            parts.append(f"<code>{escape(segment[1:-1])}</code>")
        else:
            parts.append(_inline(escape(segment)))
    rendered = "".join(parts)
    if heading:
        return f"<b>{rendered}</b>"
    if bullet:
        return f"{bullet[1]}• {rendered}"
    return rendered


def to_html(text: str) -> str:
    """Convert `**bold**`, `_italic_`, `` `code` ``, `# headings` and `- ` bullets to HTML.

    Conversion is per line, so every tag opened on a line is closed on it and the text can be
    split between lines safely. Anything else is escaped and shown literally.
    """
    return "\n".join(_line_to_html(line) for line in text.strip().splitlines())


def _chop(token: str, size: int) -> Iterable[str]:
    """A word longer than `size` in pieces; tags and entities are never cut."""
    if token.startswith(("<", "&")) or len(token) <= size:
        yield token
        return
    for start in range(0, len(token), size):
        yield token[start : start + size]


def _split_line(line: str, limit: int) -> list[str]:
    """Cut one over-long HTML line at spaces, closing open tags and reopening them after."""
    pieces: list[str] = []
    current = ""
    stack: list[tuple[str, str]] = []  # (name, opening tag)
    for token in _TOKEN.findall(line):
        for part in _chop(token, max(limit // 4, 1)):
            name = _TAG_NAME.match(part)
            after = list(stack)
            if name and part.startswith("</"):
                after = after[:-1]
            elif name:
                after.append((name[1], part))
            closing = "".join(f"</{tag}>" for tag, _ in reversed(after))
            if current.strip() and len(current) + len(part) + len(closing) > limit:
                pieces.append(current + "".join(f"</{tag}>" for tag, _ in reversed(stack)))
                current = "".join(opening for _, opening in stack)
                if part.isspace():
                    continue
            current += part
            stack = after
    if current.strip():
        pieces.append(current)
    return pieces


def _pack(parts: list[str], sep: str, limit: int) -> list[str]:
    """Join consecutive parts with `sep` into pieces of at most `limit` characters (a part
    longer than `limit` stays a piece of its own; callers split those first)."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{sep}{part}" if current else part
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                pieces.append(current)
            current = part
    if current:
        pieces.append(current)
    return pieces


def _split_paragraph(paragraph: str, limit: int) -> list[str]:
    """Pack a paragraph's lines into pieces of at most `limit` characters."""
    parts = [
        part
        for line in paragraph.split("\n")
        for part in ([line] if len(line) <= limit else _split_line(line, limit))
    ]
    return _pack(parts, "\n", limit)


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split HTML text into messages of at most `limit` characters.

    Breaks fall between paragraphs when possible, then between lines, and only inside a line
    (at spaces, tags kept balanced) when one line alone is too long.
    """
    pieces = [
        piece
        for paragraph in text.split("\n\n")
        if paragraph.strip()
        for piece in _split_paragraph(paragraph, limit)
    ]
    return _pack(pieces, "\n\n", limit)


def render(text: str, extra_html: str = "", limit: int = MAX_MESSAGE) -> list[str]:
    """The agent's markdown (plus ready HTML appended as its own paragraph) as messages."""
    body = to_html(text)
    if extra_html:
        body = f"{body}\n\n{extra_html}" if body else extra_html
    return split_html(body, limit) or [escape("I have no answer for that.")]


def plain(text_html: str) -> str:
    """The same message without markup (a fallback if Telegram rejects the HTML)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text_html))


def short_symbol(symbol: str) -> str:
    """`BTC-USD` -> `BTC`, `UNI7083-USD` -> `UNI` (how people type coins in chat)."""
    return re.sub(r"(?<=[A-Z])\d+$", "", symbol.removesuffix("-USD"))


def sources_html(sources: Sequence[dict[str, Any]], limit: int = 3) -> str:
    """An italic `Sources:` line for the documents an answer drew on (empty when none)."""
    names = []
    for source in sources[:limit]:
        title = str(source.get("title") or source.get("source") or "").strip()
        section = str(source.get("section") or "").strip()
        if title:
            names.append(escape(f"{title} ({section})" if section else title))
    return f"<i>Sources: {'; '.join(names)}</i>" if names else ""


def price_message(summary: dict[str, Any]) -> str:
    """`/price`: last close, change over the period, and a warning when the data is stale."""
    period = "1 day" if summary["period_days"] == 1 else f"{summary['period_days']} days"
    arrow = "▲" if summary["change_pct"] >= 0 else "▼"
    lines = [
        f"<b>{escape(summary['name'])} ({escape(summary['symbol'])})</b>",
        f"Close: <b>{fmt.price(summary['close'])} USD</b> ({escape(summary['as_of'])})",
        f"Change over {period}: {arrow} {fmt.pct(summary['change_pct'])}",
    ]
    if summary.get("stale"):
        lines.append(f"⚠️ This data is not current ({escape(str(summary['freshness']))}).")
    return "\n".join(lines)


_READINGS = (
    ("RSI 14", "rsi_14", 1),
    ("MACD histogram", "macd_hist", 2),
    ("Bollinger %B", "bb_percent_b", 2),
    ("ADX 14", "adx_14", 1),
    ("SMA 50", "sma_50", None),
    ("SMA 200", "sma_200", None),
)


def key_readings(values: dict[str, Any]) -> list[str]:
    """`RSI 14 54.3`-style readings, formatted like the agent's answers."""
    out = []
    for label, key, decimals in _READINGS:
        value = values.get(key)
        if value is not None:
            shown = fmt.price(value) if decimals is None else fmt.number(value, decimals)
            out.append(f"{label} {shown}")
    return out


def stance_label(stance: str) -> str:
    """`strong_bullish` -> `strong bullish`."""
    return stance.replace("_", " ")


def technical_message(report: dict[str, Any], max_signals: int = 5) -> str:
    """`/ta`: stance and score, key readings, the strongest signals with reasons, levels."""
    summary = report["summary"]
    interval = "daily" if report["interval"] == "1d" else "hourly"
    as_of = str(report["as_of"])[:16].replace("T", " ")
    lines = [
        f"<b>Technical view: {escape(report['symbol'])}</b> ({interval}, as of {escape(as_of)})",
        f"Stance: <b>{escape(stance_label(summary['stance']))}</b> "
        f"(score {summary['score']:+.2f}; {summary.get('buy', 0)} buy, "
        f"{summary.get('sell', 0)} sell, {summary.get('hold', 0)} hold)",
    ]
    readings = key_readings(report["values"])
    if readings:
        lines.append("Key readings: " + escape(" · ".join(readings)))
    signals = sorted(report.get("signals", []), key=lambda s: s["action"] == "hold")
    if signals:
        lines.append("")
        lines.append("<b>Top signals</b>")
        lines += [
            f"• {escape(s['action'].upper())}: {escape(s['reason'])}" for s in signals[:max_signals]
        ]
    levels = report.get("levels") or {}
    support = ", ".join(fmt.price(v) for v in levels.get("support", [])[:2]) or "none found"
    resistance = ", ".join(fmt.price(v) for v in levels.get("resistance", [])[:2]) or "none found"
    lines.append("")
    lines.append(f"Support: {support} · Resistance: {resistance}")
    lines.append("<i>Not financial advice.</i>")
    return "\n".join(lines)


def chart_caption(symbol: str) -> str:
    """The caption under a `/chart` photo."""
    return (
        f"<b>{escape(symbol)}</b> daily chart: candles with Bollinger bands, moving averages, "
        "support/resistance, volume, RSI and MACD."
    )


COMMANDS: tuple[tuple[str, str], ...] = (
    ("price", "Last close and daily change, e.g. /price BTC"),
    ("ta", "Technical view: stance, readings, signals, e.g. /ta ETH"),
    ("chart", "Technical chart as an image, e.g. /chart SOL"),
    ("forecast", "Price forecast with the model's skill, e.g. /forecast BTC 7"),
    ("backtest", "How a signal did before, e.g. /backtest BTC golden_cross"),
    ("sentiment", "News mood with sources, e.g. /sentiment SOL"),
    ("ask", "Ask anything, e.g. /ask is BTC oversold?"),
    ("help", "What I can do"),
)
"""The bot's menu (sent with setMyCommands) and the body of /help."""


def help_message(symbols: Sequence[str]) -> str:
    """`/help`: the commands, free-text examples and the supported coins."""
    lines = ["<b>What I can do</b>"]
    lines += [f"/{name} – {escape(text.split(', e.g.')[0])}" for name, text in COMMANDS[:-1]]
    lines += [
        "",
        "Or just write to me, for example:",
        "• is ETH oversold?",
        "• technical view on SOL",
        "• what is RSI?",
        "",
        "Coins: " + escape(", ".join(short_symbol(s) for s in symbols)),
    ]
    return "\n".join(lines)


def start_message(first_name: str | None, symbols: Sequence[str]) -> str:
    """`/start`: a one-line greeting, then the help."""
    who = f", {escape(first_name)}" if first_name else ""
    return (
        f"Hi{who}! I'm a crypto-analysis assistant: every number I give comes from my "
        "market-data and indicator engines.\n\n" + help_message(symbols)
    )
