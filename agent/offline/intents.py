"""The offline planner's vocabulary: intents, trigger phrases, indicator and concept words.

Kept apart from the parsing code so the rules read as data. Patterns are regular expressions
applied to the lower-cased message; tables are ordered, and the first match wins.
"""

from __future__ import annotations

from typing import Literal

Intent = Literal[
    "price",
    "technical",
    "advice",
    "compare",
    "forecast",
    "accuracy",
    "backtest",
    "sentiment",
    "explain",
    "help",
    "smalltalk",
    "not_yet",
    "off_topic",
    "unknown",
]

# Intents that only make sense about a coin; without one the planner asks which.
SYMBOL_INTENTS: frozenset[str] = frozenset(
    {"price", "technical", "advice", "compare", "forecast", "accuracy", "backtest", "sentiment"}
)

# Keyword rules in priority order: earlier intents win when a message matches several.
INTENT_PATTERNS: tuple[tuple[Intent, tuple[str, ...]], ...] = (
    (
        "accuracy",
        (
            r"\baccura(te|cy)\b",
            r"\btrack record\b",
            r"\bhit rate\b",
            r"\bhow (good|well|right|reliable)\b.*\b(forecast|prediction|call)s?\b",
            r"\bhow did (your|the) (forecast|prediction)s?\b",
            r"\bhow (far )?off\b.*\b(forecast|prediction|call)s?\b",
            r"\b(forecast|prediction)s?\b.*\b(any good|historically|in the past|so far)\b",
            r"\b(were|was) you (right|wrong|correct)\b",
            r"\bpast (forecast|prediction)s\b",
            r"\b(your|past|previous) (buy|sell|bullish|bearish)\b[\w/ ]*\bcalls\b",
            # the model against "no change": its skill, asked in plain words
            r"\b(no change|naive|random walk|baseline)\b",
            r"\b(mae|mape|rmse|mse|errors?)\b.*\b(forecast|prediction)s?\b",
            r"\b(predictions?|forecasts?|calls?) (were |was )?(right|correct|wrong)\b",
            r"\bbetter than (just )?(guess\w*|chance|a coin flip)\b",
            r"\btrust\b.*\b(forecast|prediction|model)s?\b",
            r"\bhow (good|reliable) (has|have|is|was|were)\b",
            r"\b(model|forecast)s? (any good|reliable|useful|worth (anything|it))\b",
            r"\bis (the|that|this|your) (model|forecast)\b.*\b(good|reliable|useful|skill\w*)\b",
        ),
    ),
    (
        "compare",
        (
            r"\bcompar(e|ed|ing|ison)\b",
            r"\bvs\.?\b",
            r"\bversus\b",
            r"\bwhich\b.*\b(better|stronger|weaker|best|worse|worst|outperform\w*|safer)\b",
            r"\b(better|stronger|weaker) than\b",
            r"\boutperform\w*\b",
            r"\bhead to head\b",
            r"\bside by side\b|\b(look|stack up|fare|compare) (next to|against)\b",
        ),
    ),
    (
        "advice",
        (
            r"\bshould (i|we)\b",
            r"\bgood (time|moment|idea|entry|point) to\b",
            r"\b(is|are) (it|now|this)\b.*\bgood (buy|investment|entry)\b",
            r"\bworth (buying|investing|holding|it)\b",
            r"\b(buy|sell|hold) or (buy|sell|hold)\b",
            r"\binvest(ing)? in\b",
            r"\brecommend\w*\b",
            r"\badvi[cs]e\b",
            r"\b(your|overall) (view|take|opinion|outlook|verdict)\b",
            r"\bwhat do you (think|reckon)\b",
            r"\boutlook\b",
            r"\b(is|are) \w+ a (good )?(buy|sell)\b|\ba (good )?buy\b",
            r"\bbuy or (wait|not)\b|\bwhat would you do\b",
            # a request for everything at once: every engine, as for "should I buy?"
            r"\b(full|complete|whole|in-depth|deep|thorough|detailed|overall)\s+"
            r"(analysis|picture|review|rundown|breakdown|report|dive|look)\b",
            r"\b(everything|all you (know|have))\b",
            r"\b(overview|big picture|deep dive)\b",
        ),
    ),
    (
        "forecast",
        (
            r"\bforecast\w*\b",
            r"\bpredict\w*\b",
            r"\bprojection\b",
            r"\bprice target\b",
            r"\bwhere will\b",
            r"\b(your|the) (call|target|expectations?) (for|on)\b",
            r"\b(what do you|do you) expect\b",
            r"\bwhere do you see\b",
            r"\bwill\b.*\b(be|go|hit|reach|rise|fall|drop|climb|crash|end up|trade|close)\b",
            r"\b(going to|gonna)\b",
            r"\bwhere .* head(ed|ing)\b",
            # "ETH price in 6 months": a price at a future time
            r"\b(price|worth|be|trade)\s+in\s+(\d+|a|an|one|two|three|four|five|six|ten)\s+"
            r"(days?|weeks?|months?)\b",
        ),
    ),
    (
        "sentiment",
        (
            r"\bsentiment\b",
            r"\bmood\b",
            r"\bnews\b",
            r"\bheadlines?\b",
            r"\bpeople (saying|think|feel)\b",
            r"\b(twitter|reddit|social media|buzz|hype|vibes?|fud|fomo)\b",
            r"\bfear and greed\b",
            r"\b(press|media|coverage|journalists?)\b",
            r"\bfeeling (about|on)\b",
        ),
    ),
    (
        "technical",
        (
            r"\btechnicals?\b",
            r"\bta\b",
            r"\bindicators?\b",
            r"\bover(sold|bought)\b",
            r"\bcharts?\b",
            r"\bsignals?\b",
            r"\btrend(ing|s)?\b",
            r"\b(support|resistance)\b",
            r"\bmomentum\b",
            r"\b(bullish|bearish)\b",
            r"\bbreak(out|down)\b",
            r"\b(golden|death) cross\b",
            r"\bdivergence\b",
            r"\bsetup\b",
            r"\b(down|up)trend\b|\bkey levels?\b",
            r"\b\d+[- ]?(day|d|week|w)?\s*(ma|sma|ema|moving averages?)\b",
            r"\b(above|below|under|over) (its|the) .*\b(ma|average|averages)\b",
        ),
    ),
    (
        "price",
        (
            r"\bprices?\b",
            r"\bcost\b",
            r"\bworth\b",
            r"\btrading at\b",
            r"\bhow much\b",
            r"\bmov(e|ed|ing)\b",
            r"\bchang(e|ed)\b",
            r"\bperform(ance|ing|ed)?\b",
            r"\b(gain|gained|lost|dropped|fell|rose|pumped|dumped)\b",
            r"\bup or down\b",
            r"\bdoing\b",
            r"\bquote\b",
            r"\bvalue\b",
            r"\b(all[- ]time high|ath)\b",
            r"\bat\s*\?*\s*$",
        ),
    ),
    (
        "help",
        (
            r"^\s*help\b",
            r"\bhelp\s*[?!.]*\s*$",
            r"\bwhat can (you|u) do\b",
            r"\bwhat (do|can) you (know|offer|support|cover)\b",
            r"\bhow (do|can) i use\b",
            r"\b(which|what) coins\b",
            r"\bcommands?\b",
        ),
    ),
    (
        "smalltalk",
        (
            r"^\s*(hi|hello|hey|hiya|yo|howdy|greetings)\b",
            r"^\s*good (morning|afternoon|evening|night)\b",
            r"\b(thanks|thank you|thx|ty|cheers)\b",
            r"^\s*(bye|goodbye|see you)\b",
            r"\bwho are you\b",
            r"\bwhat are you\b",
            r"\bhow are you\b",
            r"^\s*(ok|okay|cool|nice|great|lol|awesome)\s*[!.]*\s*$",
        ),
    ),
)

# Requests for a definition or an explanation, whatever else the message mentions.
EXPLAIN_PATTERNS: tuple[str, ...] = (
    r"\bexplain\w*\b",
    r"\bdefin(e|ition)\b",
    r"\bmeaning( of)?\b",
    r"\bwhat means\b|\bwhat (is|are) (it|they|that) exactly\b",
    r"\bwhat does\b.*\bmean\b",
    r"\bhow (does|do)\b.*\bwork\b",
    # how a mechanism acts: "how do halvings affect the price?", "what happens at a halving?"
    r"\bhow (does|do|would|can|could)\b.*\b(affect|impact|influence|drive)\b",
    r"\bwhat happens (when|to|at|during|after|if)\b",
    r"\btell me (about|what)\b",
    r"\bhelp me understand\b",
    r"\beli5\b",
    r"\bdifference between\b",
)

# "what is X?" questions; the planner treats them as definitions unless X is a coin or a request.
DEFINITION_PATTERN = (
    r"^\s*(?:so\s+|and\s+|ok\s+)?(?P<verb>what\s+is|what\s+are|what's|whats|what're)\s+"
    r"(?P<article>an?\s+|the\s+)?(?P<rest>[^?]+?)\s*[?!.]*\s*$"
)
# What follows "what is" in questions that are not asking for a definition.
NOT_A_DEFINITION: frozenset[str] = frozenset(
    {"up", "new", "happening", "going on", "you", "your name", "it", "that", "this", "next"}
)

# "why?" after an answer: explain the previous view's signals.
WHY_PATTERN = (
    r"^\s*(?:and\s+|but\s+|so\s+)?(?:why|how come|what makes you say (?:that|so)|explain that"
    r"|why (?:is|was) that|why do you say (?:that|so)|on what basis|based on what|how so)"
    r"\s*[?!.]*\s*$"
)

# A message opening like these continues the previous turn ("and for ETH?", "what about SOL").
FOLLOWUP_LEAD = (
    r"^\s*(?:and|also|plus|what about|how about|same for|same with|now|ok(?:ay)?|then|"
    r"and what about|and how about|(?:do |now )?the same (?:for|with)|same thing for)\b"
)

# Indicator words -> the indicator engine's group names.
INDICATOR_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\brsi\b|\brelative strength\b", ("rsi",)),
    (r"\bmacd\b", ("macd",)),
    (r"\bbollinger\w*\b|\bbbands?\b|\bbb\b", ("bbands",)),
    (r"\bsma\b|\bsimple moving averages?\b", ("sma",)),
    (r"\bema\b|\bexponential moving averages?\b", ("ema",)),
    (r"(?<!simple )(?<!exponential )\bmoving averages?\b|\bmas\b", ("sma", "ema")),
    (r"\bstoch\w*\b", ("stoch",)),
    (r"\bwilliams\b|\bwillr\b|%r\b", ("willr",)),
    (r"\bcci\b|\bcommodity channel\b", ("cci",)),
    (r"\badx\b|\baverage directional\b", ("adx",)),
    (r"\batr\b|\baverage true range\b", ("atr",)),
    (r"\bobv\b|\bon[- ]balance volume\b", ("obv",)),
    (r"\bmfi\b|\bmoney flow\b", ("mfi",)),
    (r"\broc\b|\brate of change\b", ("roc",)),
    (r"\bparabolic\b|\bsar\b", ("sar",)),
    (
        r"\bcandle(stick)?s?\b|\b(chart|candle|candlestick) patterns?\b|\bpatterns\b"
        r"|\bdoji\b|\bhammer\b|\bengulfing\b",
        ("patterns",),
    ),
)

# How each indicator group is named when the planner explains it.
INDICATOR_TITLES: dict[str, str] = {
    "rsi": "RSI",
    "macd": "MACD",
    "bbands": "Bollinger Bands",
    "sma": "simple moving average",
    "ema": "exponential moving average",
    "stoch": "stochastic oscillator",
    "willr": "Williams %R",
    "cci": "CCI",
    "adx": "ADX",
    "atr": "ATR",
    "obv": "OBV",
    "mfi": "money flow index",
    "roc": "rate of change",
    "sar": "parabolic SAR",
    "patterns": "candlestick patterns",
}

# Concepts the knowledge corpus can explain, beyond the indicators (longest first).
CONCEPTS: tuple[str, ...] = (
    "directional accuracy", "confidence interval", "prediction interval", "sentiment analysis",
    "naive baseline", "fear and greed", "walk-forward", "golden cross", "death cross",
    "moving average", "bull market", "bear market", "market cap", "stablecoin", "resistance",
    "divergence", "overbought", "volatility", "blockchain", "drawdown", "liquidity",
    "sentiment", "oversold", "support", "halving", "staking", "defi", "lstm", "mape", "rmse",
    "whale", "skill", "mae",
)  # fmt: skip
