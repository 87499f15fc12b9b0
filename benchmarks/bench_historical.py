"""`GET /historical-data` latency under wrk: cache hit vs cache miss, one uvicorn worker.

The server runs in its own process on 127.0.0.1 with BTC-USD daily bars loaded (the shared file,
or synthetic bars with --synthetic). The hit run repeats one 30-day window; the miss run asks a
new 30-day window on every request (a Lua counter), so each one reads Postgres.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
from common import price_folder, scratch_postgres, wrk
from rich.console import Console
from rich.table import Table
from served_api import served_app

MISS_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local day = 1410912000 + (counter % 3800) * 86400
  local width = 29 + math.floor(counter / 3800)
  local s = os.date("!%Y-%m-%d", day)
  local e = os.date("!%Y-%m-%d", day + width * 86400)
  return wrk.format("GET", "/historical-data/BTC-USD?start=" .. s .. "&end=" .. e)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--synthetic", action="store_true", help="synthetic bars, no shared data")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    with scratch_postgres() as url, tempfile.TemporaryDirectory() as tmp:
        folder = price_folder(Path(tmp), args.synthetic)
        env = {"DATABASE_URL": url, "MARKET_PROVIDER": "none", "CRYPTO_DATA_DIR": str(folder)}
        with served_app(env, "/historical-data/BTC-USD?start=2024-01-01") as base:
            script = folder / "miss.lua"
            script.write_text(MISS_SCRIPT)
            hit_url = f"{base}/historical-data/BTC-USD?start=2024-03-01&end=2024-03-30"
            httpx.get(hit_url)
            hit = wrk(hit_url, args.seconds, args.connections)
            miss = wrk(base, args.seconds, args.connections, script)
    table = Table(title=f"GET /historical-data (30-day window), wrk -c{args.connections}, 1 worker")
    for col in ("run", "req/s", "p50 ms", "p99 ms", "non-2xx", "vs miss"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for name, run in (
        ("cache miss (new window each request)", miss),
        ("cache hit (same window)", hit),
    ):
        table.add_row(
            name,
            f"{run['rps']:,.0f}",
            f"{run['p50']:.2f}",
            f"{run['p99']:.2f}",
            f"{run['errors']:.0f}",
            f"{run['rps'] / miss['rps']:.2f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
