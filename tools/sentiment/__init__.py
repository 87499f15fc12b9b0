"""News sentiment engine: analyzers (transformers, crypto lexicon, embedding head), news
sources (RSS/Atom, Reddit), symbol tagging, recency-weighted aggregation, reports and a figure.

Heavy libraries (transformers, torch, sentence-transformers, scikit-learn, plotly) are imported
inside the functions that need them, so importing this package stays cheap.
"""

from tools.sentiment.aggregate import Aggregate, ScoredItem, aggregate, daily_trend
from tools.sentiment.answer import describe_sentiment
from tools.sentiment.base import (
    LABELS,
    Analyzer,
    AnalyzerUnavailableError,
    FeedError,
    Label,
    Score,
    SentimentError,
)
from tools.sentiment.figure import sentiment_trend_figure
from tools.sentiment.select import AnalyzerOptions, Backend, Selection, select_analyzer
from tools.sentiment.sources import FeedFetcher, FeedSpec, FetchResult, reddit_feed
from tools.sentiment.tagging import tag_symbols

__all__ = [
    "LABELS",
    "Aggregate",
    "Analyzer",
    "AnalyzerOptions",
    "AnalyzerUnavailableError",
    "Backend",
    "FeedError",
    "FeedFetcher",
    "FeedSpec",
    "FetchResult",
    "Label",
    "Score",
    "ScoredItem",
    "Selection",
    "SentimentError",
    "aggregate",
    "daily_trend",
    "describe_sentiment",
    "reddit_feed",
    "select_analyzer",
    "sentiment_trend_figure",
    "tag_symbols",
]
