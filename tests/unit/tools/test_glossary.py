"""Every indicator the engine computes can be explained, with the engine's own thresholds."""

from __future__ import annotations

import pytest

from tools.errors import UnknownIndicatorError
from tools.indicators import INDICATOR_NAMES
from tools.indicators.glossary import describe


@pytest.mark.parametrize("name", INDICATOR_NAMES)
def test_each_indicator_has_a_full_description(name: str) -> None:
    info = describe(name)
    assert info.name == name
    assert all(len(text) > 15 for text in (info.measures, info.computed, info.reading, info.traps))


def test_aliases_and_thresholds() -> None:
    assert describe("Bollinger").name == "bbands"
    assert "below 30" in describe("rsi").reading
    with pytest.raises(UnknownIndicatorError):
        describe("ichimoku")
