"""Lexicon backends: plain VADER (the baseline) and VADER extended for crypto news.

`LexiconAnalyzer` adds `crypto_vocab.WORDS` to VADER's lexicon, rewrites multi-word expressions
("rug pull", "all-time high", "ETF approval") into single tokens, and handles negation of those
terms itself ("not bullish" leans bearish, "no hack" is mild relief) before VADER applies its
boosters, capitals, "but" and punctuation rules. Needs no model files, so it always works.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from tools.sentiment.base import Score, clamp, label_for
from tools.sentiment.crypto_vocab import (
    GENERAL_WORD_SCALE,
    NEGATED_NEGATIVE_SCALE,
    NEGATED_POSITIVE_SCALE,
    NEGATORS,
    PHRASES,
    SIGNED_MOVE_VALENCE,
    WORDS,
)

_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_EDGE_PUNCT = re.compile(r"^([^\w$#@]*)(.*?)([^\w]*)$")
_MOVE_UP = re.compile(r"(?<![\w.])\+\s?\d+(?:\.\d+)?\s?%")
_MOVE_DOWN = re.compile(r"(?<![\w.])[-\u2212\u2013]\s?\d+(?:\.\d+)?\s?%")
_PHRASE_TOKEN = "cryptophrase{}"  # noqa: S105 (a placeholder word, not a secret)
_NEGATED_TOKEN = "cryptonegated{}"  # noqa: S105


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.split(r"[\s-]+", phrase)]
    return re.compile(r"(?<![\w-])" + r"[\s-]+".join(words) + r"(?![\w-])", re.I)


def _load_vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


class VaderAnalyzer:
    """Plain VADER with its usual +-0.05 compound thresholds: the baseline the others must beat."""

    name = "vader"

    def __init__(self, threshold: float = 0.05) -> None:
        self.threshold = threshold
        self._vader = _load_vader()

    def analyze(self, texts: Sequence[str]) -> list[Score]:
        """VADER's compound score as `score`, its label by the thresholds."""
        return [self._score(self._vader.polarity_scores(t)["compound"]) for t in texts]

    def _score(self, compound: float) -> Score:
        label = label_for(compound, self.threshold)
        return Score(label, clamp(compound), _confidence(compound, self.threshold, hits=True))


def _confidence(compound: float, threshold: float, *, hits: bool) -> float:
    """Polar labels: 0.5 rising to 1 with |compound|. Neutral: 0.6 when the text has no opinion
    word at all (absence of evidence), falling towards 0.4 as it nears a threshold."""
    magnitude = abs(compound)
    if magnitude >= threshold:
        return clamp(0.5 + 0.5 * magnitude, 0.0, 1.0)
    if not hits:
        return 0.6
    return clamp(0.6 - 0.2 * magnitude / threshold, 0.0, 1.0)


class LexiconAnalyzer:
    """VADER plus the crypto vocabulary, phrase rules and negation of crypto terms."""

    name = "lexicon:vader-crypto-v1"

    def __init__(self, threshold: float = 0.3) -> None:
        self.threshold = threshold
        self._vader = _load_vader()
        self._phrases = [
            (_phrase_pattern(phrase), _PHRASE_TOKEN.format(i))
            for i, phrase in enumerate(sorted(PHRASES, key=len, reverse=True))
        ]
        ordered = sorted(PHRASES, key=len, reverse=True)
        self._terms: dict[str, float] = dict(WORDS)
        self._terms.update({_PHRASE_TOKEN.format(i): PHRASES[p] for i, p in enumerate(ordered)})
        self._terms.update(cryptomoveup=SIGNED_MOVE_VALENCE, cryptomovedown=-SIGNED_MOVE_VALENCE)
        lexicon = self._vader.lexicon
        for word in lexicon:
            lexicon[word] *= GENERAL_WORD_SCALE
        lexicon.update(self._terms)
        self._lock = threading.Lock()  # negated tokens are added to the shared lexicon

    def analyze(self, texts: Sequence[str]) -> list[Score]:
        """One score per text: the adjusted VADER compound, labelled beyond +-threshold."""
        return [self._score_one(text) for text in texts]

    def prepare(self, text: str) -> str:
        """The text as VADER sees it: URLs dropped, signed moves and phrases made tokens,
        negated terms rewritten."""
        text = _URL.sub(" ", text)
        text = _MOVE_DOWN.sub(" cryptomovedown ", _MOVE_UP.sub(" cryptomoveup ", text))
        for pattern, token in self._phrases:
            text = pattern.sub(f" {token} ", text)
        return self._negate(text.split())

    def _negate(self, tokens: list[str]) -> str:
        drop: set[int] = set()
        for i, token in enumerate(tokens):
            lead, core, trail = _EDGE_PUNCT.match(token).groups()  # type: ignore[union-attr]
            valence = self._terms.get(core.lower())
            if valence is None:
                continue
            for back in range(1, 4):
                j = i - back
                if j < 0 or j in drop:
                    break
                if _bare(tokens[j]) in NEGATORS or _bare(tokens[j]).endswith("n't"):
                    scale = NEGATED_POSITIVE_SCALE if valence > 0 else NEGATED_NEGATIVE_SCALE
                    tokens[i] = lead + self._negated_token(core.lower(), valence * scale) + trail
                    drop.add(j)
                    break
                if re.search(r"[.;!?]$", tokens[j]):
                    break  # negation does not cross a sentence or clause end
        return " ".join(t for k, t in enumerate(tokens) if k not in drop)

    def _negated_token(self, term: str, valence: float) -> str:
        token = _NEGATED_TOKEN.format(re.sub(r"\W", "", term))
        with self._lock:
            self._vader.lexicon.setdefault(token, valence)
        return token

    def _score_one(self, text: str) -> Score:
        prepared = self.prepare(text)
        polarity = self._vader.polarity_scores(prepared)
        compound = float(polarity["compound"])
        hits = polarity["pos"] > 0 or polarity["neg"] > 0
        label = label_for(compound, self.threshold)
        return Score(label, clamp(compound), _confidence(compound, self.threshold, hits=hits))


def _bare(token: str) -> str:
    return token.strip(".,;:!?\"'()[]").lower()
