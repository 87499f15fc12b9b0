"""Artifacts round-trip exactly; a missing or corrupt piece is a clear ModelArtifactError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.unit.forecast.helpers import synthetic_bars, tiny_model
from tools.errors import ModelArtifactError
from tools.forecast import load_model, read_metadata, save_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(
        tiny_model(), tmp_path_factory.mktemp("artifact") / "v1", metrics={"mape": 1.5}
    )


def _copy(saved: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(saved, target)
    return target


def test_round_trip_gives_the_same_forecasts_and_metadata(saved: Path) -> None:
    assert {p.name for p in saved.iterdir()} == {"model.keras", "scaler.json", "meta.json"}
    loaded = load_model(saved)
    original = tiny_model()
    bars = synthetic_bars(400)
    for as_of in (bars.index[320], bars.index[-1]):
        assert loaded.predict(bars, as_of=as_of) == original.predict(bars, as_of=as_of)
    assert loaded.scaler == original.scaler and loaded.config == original.config
    assert loaded.residual_quantiles == original.residual_quantiles
    assert loaded.train_start == original.train_start and loaded.train_end == original.train_end
    meta = read_metadata(saved)
    assert meta["metrics"] == {"mape": 1.5} and meta["fingerprint"] == original.fingerprint


@pytest.mark.parametrize("name", ["model.keras", "scaler.json", "meta.json"])
def test_a_missing_file_is_named(saved: Path, tmp_path: Path, name: str) -> None:
    folder = _copy(saved, tmp_path)
    (folder / name).unlink()
    with pytest.raises(ModelArtifactError, match=name.replace(".", r"\.") + " is missing"):
        load_model(folder)


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelArtifactError, match="does not exist"):
        load_model(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("model.keras", b"not a zip file", "model.keras is corrupt"),
        ("meta.json", b"{truncated", "meta.json is corrupt"),
        ("scaler.json", b'{"feature_mean": [1.0]}', "metadata is invalid"),
        ("meta.json", b'{"format_version": 1, "config": {"window": -3}}', "metadata is invalid"),
    ],
)
def test_a_corrupt_file_is_reported(
    saved: Path, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    folder = _copy(saved, tmp_path)
    (folder / name).write_bytes(content)
    with pytest.raises(ModelArtifactError, match=message):
        load_model(folder)


def test_metadata_that_does_not_match_the_network_is_rejected(saved: Path, tmp_path: Path) -> None:
    folder = _copy(saved, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    meta["config"]["window"] = meta["config"]["window"] + 1
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelArtifactError, match="does not match"):
        load_model(folder)
