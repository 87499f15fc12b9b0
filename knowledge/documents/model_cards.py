"""Model cards: one `model_card` document per symbol, written from the model registry.

A card states the serving model (the champion, or the newest candidate when none is
promoted), its training range, its walk-forward window, and per horizon its errors beside the
naive persistence forecast on the same days, with a plain verdict. Cards are re-indexed when
the registry changes (their content hash changes) and removed for symbols without models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from knowledge.documents.models import ParsedDocument
from knowledge.documents.parsing import content_hash
from knowledge.market.symbols import find_coin
from knowledge.models.registry import ModelVersion

SOURCE_PREFIX = "model-registry:"


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    number = float(value)
    return f"{number:.{digits}g}" if abs(number) >= 1 else f"{number:.{digits}f}"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{float(value) * 100:.1f}%"


def _horizon_lines(version: ModelVersion) -> list[str]:
    lines = []
    for horizon, m in sorted(version.metrics.items(), key=lambda kv: int(kv[0])):
        base = version.baseline.get(horizon, {})
        naive_mae = m.get("naive_mae", base.get("mae"))
        skill = m.get("skill")
        verdict = (
            "unknown skill"
            if skill is None
            else "beats the naive forecast"
            if float(skill) > 0
            else "does NOT beat the naive forecast"
        )
        lines.append(
            f"- Horizon {horizon} day(s): {verdict}. MAE {_num(m.get('mae'))} against naive "
            f"MAE {_num(naive_mae)} (skill {_num(skill, 3)}); MAPE {_num(m.get('mape'), 3)}% "
            f"against naive {_num(m.get('naive_mape', base.get('mape')), 3)}%; direction right "
            f"{_pct(m.get('directional_accuracy'))} of days; interval coverage "
            f"{_pct(m.get('coverage'))}; {m.get('n', 'n/a')} evaluated days."
        )
    return lines


def card_markdown(symbol: str, versions: Sequence[ModelVersion]) -> tuple[str, str, ModelVersion]:
    """(title, Markdown body, the version described) of one symbol's card."""
    coin = find_coin(symbol)
    name = f"{coin.name} ({symbol})" if coin else symbol
    champion = next((v for v in versions if v.status == "champion"), None)
    shown = champion or max(versions, key=lambda v: v.version)
    role = "serving champion" if champion else "newest candidate (no champion promoted)"
    window = shown.eval_window
    title = f"Forecast model card: {name}"
    body = [
        f"# {title}",
        "## Summary",
        f"The {role} for {name} is version {shown.version}, an LSTM forecaster trained on daily "
        f"bars from {shown.train_start.isoformat()} to {shown.train_end.isoformat()} and "
        f"registered on {shown.created_at.date().isoformat()}. Its scores are out of sample: a "
        f"walk-forward evaluation ({window.get('window', 'expanding')} window, refit every "
        f"{window.get('refit_every', 'n/a')} days) from {window.get('start')} to "
        f"{window.get('end')}, compared with the naive forecast (tomorrow's price equals "
        "today's) on the same days. Skill is 1 - model MAE / naive MAE; above zero means the "
        "model beat naive.",
        "## Accuracy against the naive forecast",
        *_horizon_lines(shown),
    ]
    if shown.notes:
        body += ["## Registry notes", shown.notes]
    history = [
        f"- Version {v.version} ({v.status}, trained {v.created_at.date().isoformat()}): "
        f"horizon-1 skill {_num(v.metrics.get('1', {}).get('skill'), 3)}."
        for v in sorted(versions, key=lambda v: -v.version)
    ]
    body += ["## Version history", *history]
    return title, "\n\n".join(body) + "\n", shown


def model_card_documents(versions: Sequence[ModelVersion], salt: str = "") -> list[ParsedDocument]:
    """One card per symbol that has at least one registered version."""
    by_symbol: dict[str, list[ModelVersion]] = {}
    for version in versions:
        by_symbol.setdefault(version.symbol, []).append(version)
    docs = []
    for symbol, group in sorted(by_symbol.items()):
        title, body, shown = card_markdown(symbol, group)
        docs.append(
            ParsedDocument(
                source=SOURCE_PREFIX + symbol,
                origin="model_card",
                kind="model_card",
                title=title,
                body=body,
                symbols=(symbol,),
                published_at=shown.created_at,
                content_hash=content_hash(body, salt),
                metadata={"version": str(shown.version), "status": shown.status},
            )
        )
    return docs
