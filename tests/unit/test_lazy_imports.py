"""The API and the CLI start without TensorFlow, torch, transformers, TA-Lib, scikit-learn,
Plotly or llama.cpp (xllamacpp).

Those libraries cost seconds and up to hundreds of MB each, so they load only when an engine
needs them (a forecast, an embedding, a transformers sentiment model, candlestick patterns, a
sentiment head's fit, a chart, a local language model). Each check runs in a fresh
interpreter, since this test process may already have imported them for other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "tensorflow",
    "keras",
    "torch",
    "transformers",
    "sentence_transformers",
    "talib",
    "sklearn",
    "plotly",
    "xllamacpp",
)
# Imported by start-up (lifespan) and by every CLI command module, not just api.main.
STARTUP_MODULES = (
    "api.main",
    "cli.main",
    "agent.core",
    "agent.graph.builder",
    "agent.toolkit",
    "agent.graph.memory",
    "agent.graph.llm",
    "agent.graph.tracing",
    "knowledge.embeddings",
    "tools.forecast",
    "tools.sentiment",
    "tools.indicators",
    "bots.telegram_bot",
    "ui.app",
)


def _heavy_after(code: str, tmp_path: Path) -> list[str]:
    """Run `code` in a new interpreter; the heavy modules it left in sys.modules."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATA_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    heavy: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return heavy


def test_building_the_app_imports_no_heavy_library(tmp_path: Path) -> None:
    """create_app (routers, middleware, web chat mount) needs no engine library.

    The lifespan (database, services) is not run: building the app touches no network or DB.
    """
    code = (
        "from agent.settings import load_settings\n"
        "from api.main import create_app\n"
        f"settings = load_settings(database_url='postgresql://127.0.0.1:9/none', data_home={str(tmp_path)!r})\n"
        "app = create_app(settings)\n"
        "assert '/technical' in app.openapi()['paths']\n"
    )
    assert _heavy_after(code, tmp_path) == []


def test_the_heavy_libraries_are_installed_so_the_checks_mean_something(tmp_path: Path) -> None:
    """Each name in HEAVY is importable here: a misspelt or absent one could never show up."""
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in HEAVY)
    assert _heavy_after(code, tmp_path) == sorted(HEAVY)


def test_importing_the_forecaster_alone_loads_no_engine(tmp_path: Path) -> None:
    """`tools.forecast` on its own (what the API's forecast router imports) loads neither
    TensorFlow/Keras nor Plotly: the model and the chart load on first use."""
    assert _heavy_after("import tools.forecast\n", tmp_path) == []


def test_start_up_and_cli_modules_import_no_heavy_library(tmp_path: Path) -> None:
    code = "import importlib\n" + "".join(
        f"importlib.import_module({m!r})\n" for m in STARTUP_MODULES
    )
    assert _heavy_after(code, tmp_path) == []


def test_cli_help_imports_no_heavy_library(tmp_path: Path) -> None:
    """`crypto-assistant --help` (and each group's help) builds every command without engines."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cli.main import app\n"
        "runner = CliRunner()\n"
        "for args in (['--help'], ['serve', '--help'], ['models', '--help'],"
        " ['sentiment', '--help'], ['knowledge', '--help'], ['data', '--help']):\n"
        "    result = runner.invoke(app, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "assert '--workers' in runner.invoke(app, ['serve', '--help']).output\n"
    )
    assert _heavy_after(code, tmp_path) == []
