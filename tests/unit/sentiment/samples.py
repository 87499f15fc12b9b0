"""Feed documents and a tiny classifier built by the tests themselves (no shared data)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from tools.sentiment.dataset import Labelled


@dataclass(frozen=True)
class Story:
    """One story to put in a feed."""

    title: str
    link: str
    published: datetime | None = None
    summary: str = ""
    guid: str | None = None


def rss(stories: list[Story], title: str = "Test news") -> str:
    """An RSS 2.0 document."""
    items = []
    for s in stories:
        date = f"<pubDate>{format_datetime(s.published)}</pubDate>" if s.published else ""
        guid = f"<guid>{escape(s.guid)}</guid>" if s.guid else ""
        items.append(
            f"<item><title>{escape(s.title)}</title><link>{escape(s.link)}</link>{guid}"
            f"<description>{escape(s.summary)}</description>{date}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.test/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>"
    )


def atom(stories: list[Story], title: str = "Test atom") -> str:
    """An Atom 1.0 document."""
    entries = []
    for s in stories:
        when = (s.published.isoformat() if s.published else "").replace("+00:00", "Z")
        updated = f"<updated>{when}</updated>" if when else ""
        entries.append(
            f'<entry><title>{escape(s.title)}</title><link href="{escape(s.link)}"/>'
            f"<id>{escape(s.guid or s.link)}</id>{updated}"
            f"<summary>{escape(s.summary)}</summary></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:test</id><updated>2025-01-01T00:00:00Z</updated>"
        + "".join(entries)
        + "</feed>"
    )


def reddit(posts: list[dict[str, object]], subreddit: str = "CryptoCurrency") -> str:
    """A Reddit `new.json` listing; each post needs title, id and created_utc."""
    children = []
    for p in posts:
        data = {
            "subreddit": subreddit,
            "selftext": "",
            "stickied": False,
            "over_18": False,
            "permalink": f"/r/{subreddit}/comments/{p['id']}/post/",
            "name": f"t3_{p['id']}",
            "url": f"https://www.reddit.com/r/{subreddit}/comments/{p['id']}/post/",
            **p,
        }
        children.append({"kind": "t3", "data": data})
    return json.dumps({"kind": "Listing", "data": {"after": None, "children": children}})


VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "bitcoin", "moon", "crash", "the", "to"]


def tiny_classifier(
    folder: Path, id2label: dict[int, str], winner: int, *, max_positions: int = 64
) -> Path:
    """Save a 1-layer BERT classifier and WordPiece tokenizer to `folder`, rigged (zero
    classifier weights, biased) so that class `winner` always wins with a known margin."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    tokenizer = BertTokenizer(vocab_file=str(folder / "vocab.txt"))
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=max_positions,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        bias = torch.zeros(len(id2label))
        bias[winner] = 3.0
        model.classifier.bias.copy_(bias)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


WORDS = {
    "bullish": ["surge", "rally", "soar"],
    "bearish": ["crash", "hack", "dump"],
    "neutral": ["meeting", "report", "update"],
}


class KeywordEmbedder:
    """A deterministic stand-in: one dimension per cue word plus hashed noise."""

    model_name = "keyword-test-embedder"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        cues = [w for words in WORDS.values() for w in words]
        rows = []
        for text in texts:
            seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
            noise = np.random.default_rng(seed).normal(0, 0.3, 8)
            rows.append(np.concatenate([[float(c in text) for c in cues], noise]))
        return np.asarray(rows, dtype=np.float32)


def dataset(per_label: int = 30) -> Labelled:
    texts, labels = [], []
    for label, words in WORDS.items():
        for i in range(per_label):
            texts.append(f"coin {i} news {words[i % 3]}")
            labels.append(label)
    return Labelled(texts, labels)  # type: ignore[arg-type]
