"""The API starts without TensorFlow: importing the forecaster must not import it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_import_does_not_load_tensorflow_or_keras() -> None:
    code = (
        "import sys, tools.forecast\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'plotly') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
