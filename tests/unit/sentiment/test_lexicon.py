"""The crypto lexicon: vocabulary, phrases and negation, against plain VADER."""

from __future__ import annotations

import pytest

from tools.sentiment.lexicon import LexiconAnalyzer, VaderAnalyzer


@pytest.fixture(scope="module")
def lexicon() -> LexiconAnalyzer:
    return LexiconAnalyzer()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Bitcoin hits a new all-time high", "bullish"),
        ("BTC to the moon", "bullish"),
        ("SEC approves spot ETF: ETF approval sparks a bull run", "bullish"),
        ("Halving done, bullish momentum builds", "bullish"),
        ("HODL, the bull run is here", "bullish"),
        ("Exchange hacked, funds drained", "bearish"),
        ("DeFi protocol exploit: $40M stolen", "bearish"),
        ("Rug pull wipes out memecoin holders", "bearish"),
        ("Binance announces delisting of three tokens", "bearish"),
        ("$500M liquidations as BTC dumps", "bearish"),
        ("Got rekt in the bear market", "bearish"),
        ("So much FUD, price slumps", "bearish"),
        ("Bitcoin trades sideways ahead of the Fed meeting", "neutral"),
    ],
)
def test_crypto_vocabulary_and_phrases(lexicon: LexiconAnalyzer, text: str, label: str) -> None:
    (score,) = lexicon.analyze([text])
    assert score.label == label, (text, score)


def test_plain_vader_misses_what_the_lexicon_knows(lexicon: LexiconAnalyzer) -> None:
    vader = VaderAnalyzer()
    for text in ("bullish", "exchange hack", "rug pull", "to the moon"):
        assert vader.analyze([text])[0].label == "neutral"
        assert lexicon.analyze([text])[0].label != "neutral"


def test_negation_flips_positive_terms_and_only_softens_negative_ones(
    lexicon: LexiconAnalyzer,
) -> None:
    bullish, not_bullish = lexicon.analyze(["Analysts are bullish", "Analysts are not bullish"])
    assert bullish.label == "bullish" and not_bullish.label == "bearish"
    hack, no_hack = lexicon.analyze(["hack", "no hack"])
    assert hack.label == "bearish"
    assert no_hack.label != "bearish" and 0 < no_hack.score < abs(hack.score)
    assert lexicon.analyze(["This is not a rug pull"])[0].label != "bearish"
    assert lexicon.analyze(["SEC delays ETF approval"])[0].score < 0


def test_negation_stops_at_a_sentence_end(lexicon: LexiconAnalyzer) -> None:
    assert "cryptonegated" not in lexicon.prepare("Not today. Bullish tomorrow")
    assert "cryptonegated" in lexicon.prepare("not really bullish")


def test_signed_moves_and_urls(lexicon: LexiconAnalyzer) -> None:
    up, down = lexicon.analyze(["$XYZ +14.5% after earnings", "$XYZ (-8.7% pre) on guidance"])
    assert up.label == "bullish" and down.label == "bearish"
    assert "t.co" not in lexicon.prepare("news https://t.co/abc")


def test_scores_respect_the_contract(lexicon: LexiconAnalyzer) -> None:
    for score in lexicon.analyze(["", "!!!", "MOON MOON MOON!!!", "crash " * 500]):
        assert -1 <= score.score <= 1 and 0 <= score.confidence <= 1
    assert lexicon.name.startswith("lexicon:")
