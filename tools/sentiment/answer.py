"""The offline answer paragraph for a sentiment result, using only figures the result holds.

Every number written here is a value of the result (score, confidence, counts, ages, dates),
so the agent's grounding check finds each one; headlines are quoted verbatim with their source
and date. With no items the paragraph says so and gives no score.
"""

from __future__ import annotations

from typing import Any


def _when(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def _sources(result: dict[str, Any]) -> str:
    parts = [f"{s['name']} ({s['n']})" for s in result.get("sources", [])[:4]]
    more = len(result.get("sources", [])) - 4
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def describe_sentiment(result: dict[str, Any]) -> str:
    """A short Markdown paragraph: reading, evidence, freshness, headlines, model."""
    name = result.get("name") or result.get("symbol") or "these texts"
    who = f"{name} ({result['symbol']})" if result.get("symbol") else name
    overall = result["overall"]
    window = result.get("window") or {}
    if not overall.get("n"):
        message = result.get("message") or f"No news items about {who} are stored."
        return f"**News sentiment on {who}**: {message}"
    counts = overall.get("label_counts") or {}
    breakdown = ", ".join(
        f"{counts[k]} {k}" for k in ("bullish", "neutral", "bearish") if counts.get(k)
    )
    days = window.get("days")
    span = f"over the {days:g} days to {_when(window.get('end'))} UTC" if days else ""
    lines = [
        f"**News sentiment on {who}** {span}: **{overall['label']}** "
        f"(score {overall['score']:+.2f}, confidence {overall['confidence']:.2f}) "
        f"from {overall['n']} item(s) ({breakdown}) across {_sources(result)}."
    ]
    fresh = result.get("freshness") or {}
    if fresh.get("latest_published_at"):
        lines.append(
            f"The newest item was published {_when(fresh['latest_published_at'])} UTC "
            f"({fresh['age_hours']:g} hours before the reading)."
        )
    headlines = result.get("headlines") or []
    if headlines:
        lines.append(
            "Headlines that weighed most:\n"
            + "\n".join(
                f'- "{h["text"]}" ({h["source"]}, {_when(h["published_at"])[:10]}, {h["label"]} '
                f"{h['score']:+.2f})"
                for h in headlines
            )
            + "\n"
        )
    models = ", ".join(result.get("models") or {}) or result.get("model") or "unknown model"
    half_life = result.get("half_life_hours")
    weighting = f", newer items weighing more (half-life {half_life:g} hours)" if half_life else ""
    lines.append(
        f"Scored by {models}{weighting}. News mood is context, not a price signal on its own."
    )
    return "\n".join(lines)
