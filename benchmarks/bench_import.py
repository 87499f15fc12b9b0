"""Import throughput of the seven daily CSV files in ../shared/data/prices (rows per second).

Compares, in the same run and database, the project's importer (validate every row, COPY into a
temp table, merge with ON CONFLICT in one transaction per file) with a naive baseline that
inserts the already-parsed rows one `executemany` statement at a time, without validation.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import DAILY_FILES, SHARED_PRICES, scratch_postgres
from rich.console import Console
from rich.table import Table

from agent.core import Services
from agent.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prices", type=Path, default=SHARED_PRICES)
    args = parser.parse_args()
    files = [args.prices / name for name in DAILY_FILES]
    console = Console()
    with scratch_postgres() as url:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=url, market_provider="none", load_data_on_start=False
        )
        services = Services.build(settings)
        market = services.market

        started = time.perf_counter()
        results = market.import_paths(files)
        first = time.perf_counter() - started
        rows = sum(r.rows for r in results)

        started = time.perf_counter()
        market.import_paths(files, force=True)
        again = time.perf_counter() - started

        from knowledge.market.csv_files import parse_file_name, read_ohlcv

        started = time.perf_counter()
        frames = [(p, read_ohlcv(p, parse_file_name(p)[1])) for p in files]
        parse_only = time.perf_counter() - started

        with services.db.connection() as conn:
            conn.execute("CREATE TABLE naive_bars (LIKE price_bars INCLUDING ALL)")
        started = time.perf_counter()
        with services.db.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for path, frame in frames:
                symbol = parse_file_name(path)[0]
                cur.executemany(
                    "INSERT INTO naive_bars (symbol, interval, ts, open, high, low, close, volume,"
                    " source) VALUES (%s, '1d', %s, %s, %s, %s, %s, %s, 'csv')"
                    " ON CONFLICT DO NOTHING",
                    [
                        (symbol, ts.to_pydatetime(), *row)
                        for ts, row in zip(frame.index, frame.itertuples(index=False), strict=True)
                    ],
                )
        naive = time.perf_counter() - started
        services.db.close()

    table = Table(title=f"CSV import, {len(files)} daily files, {rows:,} rows")
    for col in ("run", "seconds", "rows/s", "vs naive insert"):
        table.add_column(col, justify="right" if col != "run" else "left")
    table.add_row(
        "naive executemany INSERT (baseline, no validation)",
        f"{naive:.2f}",
        f"{rows / naive:,.0f}",
        "1.00x",
    )
    table.add_row(
        "importer, first load (validate + COPY + merge)",
        f"{first:.2f}",
        f"{rows / first:,.0f}",
        f"{naive / first:.2f}x faster",
    )
    table.add_row(
        "importer, re-import unchanged (no rows rewritten)",
        f"{again:.2f}",
        f"{rows / again:,.0f}",
        f"{naive / again:.2f}x faster",
    )
    table.add_row("parse + validate only", f"{parse_only:.2f}", f"{rows / parse_only:,.0f}", "")
    console.print(table)


if __name__ == "__main__":
    main()
