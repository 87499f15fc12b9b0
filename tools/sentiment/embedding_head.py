"""A logistic-regression head on the shared sentence embeddings, trained from a labelled CSV.

Training embeds the texts once (all-MiniLM-L6-v2 by default, through `knowledge.embeddings`),
holds out a stratified seeded part for evaluation, picks the regularisation on the training part
only (cross-validation), fits, and scores the held-out part it never saw. The artifact is a
versioned folder `<model_dir>/sentiment/embedding-head/vN/` with plain JSON weights (no pickle:
loading runs no code) and `metadata.json` (embedder, data fingerprint, split, evaluation). A
version is written in a hidden temporary folder and renamed into place, so a reader never sees a
half-written `vN`; `head_key` names the newest one cheaply, so a running service can notice it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tools.sentiment.base import LABELS, AnalyzerUnavailableError, Label, Score, from_probabilities
from tools.sentiment.dataset import Labelled, classification_report, stratified_split

HEAD_DIR = Path("sentiment") / "embedding-head"
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)
CV_FOLDS = 3


class TextEmbedder(Protocol):
    """What the head needs from `knowledge.embeddings.Embedder`."""

    model_name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class HeadWeights:
    """Multinomial logistic regression: P = softmax(X @ coef.T + intercept)."""

    classes: tuple[Label, ...]
    coef: np.ndarray
    intercept: np.ndarray

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities for (n, dim) embeddings."""
        logits = vectors @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class TrainedHead:
    """Weights plus what was learned about them; `save` writes the next version."""

    weights: HeadWeights
    metadata: dict[str, Any]

    def save(self, model_dir: Path) -> Path:
        """Write `vN` (N one past the newest version) and return its folder.

        The files are written and synced in a temporary folder that is then renamed to `vN`
        (atomic), so a running service never loads a half-written head; when another save took
        `vN` meanwhile, the next number is used.
        """
        root = model_dir / HEAD_DIR
        root.mkdir(parents=True, exist_ok=True)
        weights = {
            "classes": list(self.weights.classes),
            "coef": self.weights.coef.tolist(),
            "intercept": self.weights.intercept.tolist(),
        }
        version = max((v for v, _ in _versions(root)), default=0) + 1
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the head from a server run as another user
        try:
            while True:
                metadata = {**self.metadata, "version": version}
                _write_synced(staging / "weights.json", json.dumps(weights))
                _write_synced(staging / "metadata.json", json.dumps(metadata, indent=2))
                folder = root / f"v{version}"
                try:
                    os.rename(staging, folder)  # fails when `folder` exists with files in it
                except OSError:
                    if not folder.exists():
                        raise
                    version += 1
                    continue
                _sync_dir(root)
                return folder
        finally:
            if staging.exists():
                for leftover in staging.iterdir():
                    leftover.unlink()
                staging.rmdir()


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not every platform opens folders; the rename itself is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _versions(root: Path) -> list[tuple[int, Path]]:
    if not root.is_dir():
        return []
    found = [(int(p.name[1:]), p) for p in root.iterdir() if p.name[1:].isdigit()]
    return sorted(v for v in found if (v[1] / "weights.json").is_file())


def latest_head(model_dir: Path) -> Path | None:
    """The newest saved head's folder, or None when none was trained."""
    versions = _versions(model_dir / HEAD_DIR)
    return versions[-1][1] if versions else None


@dataclass(frozen=True)
class HeadKey:
    """Identifies one saved head on disk: its folder and its files' modification times and
    sizes, so a head rewritten in place also counts as new."""

    folder: Path
    stamp: tuple[int, ...]


def head_key(model_dir: Path) -> HeadKey | None:
    """The newest head's key (a folder listing and two stats), or None when none is saved."""
    folder = latest_head(model_dir)
    if folder is None:
        return None
    stamp: list[int] = []
    for name in ("weights.json", "metadata.json"):
        try:
            info = (folder / name).stat()
        except OSError:
            stamp += [-1, -1]
        else:
            stamp += [info.st_mtime_ns, info.st_size]
    return HeadKey(folder, tuple(stamp))


def fingerprint(data: Labelled) -> str:
    """sha256 of the rows, so the metadata says exactly which data a head was trained on."""
    digest = hashlib.sha256()
    for text, label in zip(data.texts, data.labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def fit_weights(vectors: np.ndarray, labels: Sequence[str], seed: int) -> tuple[HeadWeights, float]:
    """Pick C by stratified CV (macro-F1) on these rows only, then fit on all of them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    search = GridSearchCV(
        LogisticRegression(max_iter=2000, class_weight="balanced"),
        {"C": list(C_GRID)},
        scoring="f1_macro",
        cv=StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed),
    )
    search.fit(vectors, list(labels))
    best = search.best_estimator_
    classes = tuple(str(c) for c in best.classes_)
    weights = HeadWeights(classes, np.asarray(best.coef_), np.asarray(best.intercept_))  # type: ignore[arg-type]
    return weights, float(search.best_params_["C"])


def train_head(
    data: Labelled,
    embedder: TextEmbedder,
    *,
    test_size: float = 0.2,
    seed: int = 42,
    source: str = "",
    on_stage: Callable[[str], None] | None = None,
) -> TrainedHead:
    """Embed, split, fit on the training part, evaluate on the held-out part."""
    say = on_stage or (lambda _: None)
    train_rows, test_rows = stratified_split(data.labels, test_size, seed)
    say(f"embedding {len(data.texts)} texts with {embedder.model_name}")
    vectors = embedder.embed(data.texts)
    say(f"fitting on {len(train_rows)} rows (C chosen by {CV_FOLDS}-fold CV on them)")
    train_labels = [data.labels[i] for i in train_rows]
    weights, c_value = fit_weights(vectors[train_rows], train_labels, seed)
    probs = weights.probabilities(vectors[test_rows])
    predicted = [weights.classes[i] for i in probs.argmax(axis=1)]
    evaluation = classification_report([data.labels[i] for i in test_rows], predicted)
    say(f"held-out macro-F1 {evaluation['macro_f1']:.3f} on {len(test_rows)} rows")
    metadata = {
        "kind": "embedding-logreg",
        "embedder": embedder.model_name,
        "dimension": int(vectors.shape[1]),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "data_sha256": fingerprint(data),
        "rows": len(data.texts),
        "label_counts": data.counts(),
        "split": {
            "test_size": test_size,
            "seed": seed,
            "stratified": True,
            "train_rows": len(train_rows),
            "test_rows": len(test_rows),
        },
        "hyperparameters": {"C": c_value, "class_weight": "balanced", "cv_folds": CV_FOLDS},
        "evaluation": evaluation,
    }
    return TrainedHead(weights, metadata)


def train_from_csv(
    csv_path: Path,
    model_dir: Path,
    embedder: TextEmbedder,
    *,
    test_size: float = 0.2,
    seed: int = 42,
    on_stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Load a labelled CSV, train, save the next version; its metadata, version and folder."""
    from tools.sentiment.dataset import load_labelled_csv

    data = load_labelled_csv(csv_path)
    head = train_head(
        data, embedder, test_size=test_size, seed=seed, source=str(csv_path), on_stage=on_stage
    )
    folder = head.save(model_dir)
    return {**head.metadata, "version": int(folder.name[1:]), "path": str(folder)}


class EmbeddingHeadAnalyzer:
    """Scores texts with a saved head; the embedder must be the one it was trained with."""

    def __init__(self, folder: Path, embedder: TextEmbedder) -> None:
        try:
            raw = json.loads((folder / "weights.json").read_text())
            self.metadata: dict[str, Any] = json.loads((folder / "metadata.json").read_text())
            if not isinstance(self.metadata, dict):
                raise ValueError("metadata.json is not an object")
            classes = tuple(str(c) for c in raw["classes"])
            coef = np.asarray(raw["coef"], dtype=float)
            intercept = np.asarray(raw["intercept"], dtype=float)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AnalyzerUnavailableError(
                f"embedding head in {folder} is unreadable: {exc}"
            ) from exc
        weights = HeadWeights(classes, coef, intercept)  # type: ignore[arg-type]  # checked below
        dimension = self.metadata.get("dimension")
        if (
            not classes
            or set(classes) - set(LABELS)
            or coef.ndim != 2
            or coef.shape[0] != len(classes)
            or intercept.shape != (len(classes),)
            or (dimension is not None and coef.shape[1] != dimension)
        ):
            raise AnalyzerUnavailableError(f"embedding head in {folder} has malformed weights")
        if self.metadata.get("embedder") != embedder.model_name:
            raise AnalyzerUnavailableError(
                f"embedding head in {folder} was trained on {self.metadata.get('embedder')!r} "
                f"embeddings, but the embedder is {embedder.model_name!r}; retrain it"
            )
        self.weights = weights
        self.embedder = embedder
        self.folder = folder
        self.name = f"embedding-head:v{self.metadata.get('version', folder.name[1:])}"
        self._lock = threading.Lock()

    def analyze(self, texts: Sequence[str]) -> list[Score]:
        """Softmax probabilities -> label, P(bull) - P(bear), max probability."""
        if not texts:
            return []
        with self._lock:
            vectors = self.embedder.embed(list(texts))
        probs = self.weights.probabilities(vectors)
        classes = self.weights.classes
        return [
            from_probabilities({classes[j]: float(row[j]) for j in range(len(classes))})
            for row in probs
        ]
