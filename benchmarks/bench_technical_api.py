"""`POST /technical` throughput under wrk: warm cache vs cold (a new `as_of` every request).

One uvicorn worker on 127.0.0.1 with BTC-USD daily bars (shared file or --synthetic). Cold
requests each read the bars up to their `as_of` and run the full TA-Lib panel and rules.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
from common import price_folder, scratch_postgres, wrk
from rich.console import Console
from rich.table import Table
from served_api import served_app

COLD_SCRIPT = """
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local day = 1483228800 + (counter % 3200) * 86400
  local hour = math.floor(counter / 3200) % 24
  local as_of = os.date("!%Y-%m-%dT", day) .. string.format("%02d:30:00Z", hour)
  return wrk.format(nil, "/technical", nil, '{"symbol": "BTC-USD", "as_of": "' .. as_of .. '"}')
end
"""

WARM_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%s'
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
            body = json.dumps({"symbol": "BTC-USD", "as_of": "2024-06-30"})
            headers = {"Content-Type": "application/json"}
            assert httpx.post(f"{base}/technical", content=body, headers=headers).status_code == 200
            (folder / "warm.lua").write_text(WARM_SCRIPT % body)
            (folder / "cold.lua").write_text(COLD_SCRIPT)
            warm = wrk(f"{base}/technical", args.seconds, args.connections, folder / "warm.lua")
            cold = wrk(f"{base}/technical", args.seconds, args.connections, folder / "cold.lua")
    table = Table(title=f"POST /technical (full panel), wrk -c{args.connections}, 1 worker")
    for col in ("run", "req/s", "p50 ms", "p99 ms", "non-2xx", "vs cold"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for name, run in (("cold cache (new as_of each request)", cold), ("warm cache", warm)):
        table.add_row(
            name,
            f"{run['rps']:,.0f}",
            f"{run['p50']:.2f}",
            f"{run['p99']:.2f}",
            f"{run['errors']:.0f}",
            f"{run['rps'] / cold['rps']:.2f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
