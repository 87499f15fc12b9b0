"""The Chainlit web chat, mounted by the API at `/ui`.

Chainlit reads its configuration from `$CHAINLIT_APP_ROOT/.chainlit/config.toml` the first time
any of its modules is imported (and otherwise creates a default one in the working directory).
Several modules of this package import Chainlit, so the package points the variable at this
folder before any of them loads.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("CHAINLIT_APP_ROOT", str(Path(__file__).resolve().parent))
