"""How numbers are written in answers: prices by magnitude, signed percentages."""

from __future__ import annotations


def price(value: float) -> str:
    """87,508.83 / 2.3456 / 0.00001234: enough digits for the coin's scale."""
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.2f}"
    if magnitude >= 1:
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{value:.6g}"


def pct(value: float) -> str:
    """A signed percentage: +1.25% / -0.35%."""
    return f"{value:+.2f}%"


def number(value: float, decimals: int = 2) -> str:
    """A plain reading such as an indicator value."""
    return f"{value:,.{decimals}f}"
