"""Settings: defaults for a fresh machine, clear messages for bad values, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[3]


def test_fresh_machine_defaults_use_embedded_services() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url is None and settings.redis_url is None
    assert settings.llm_model is None
    assert settings.port == 8000


def test_bad_values_name_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://db")
    monkeypatch.setenv("PORT", "99999")
    monkeypatch.setenv("LLM_MODEL", "gpt4")
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)
    text = str(info.value)
    assert "DATABASE_URL: Value error, must start with postgresql://" in text
    assert "PORT:" in text and "LLM_MODEL:" in text


def test_lists_are_comma_separated_and_secrets_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", "12, 34")
    monkeypatch.setenv("ADMIN_API_KEY", "s3cret-value")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@h/db")
    settings = load_settings(_env_file=None)
    assert settings.telegram_allowed_users == [12, 34]
    assert "s3cret-value" not in repr(settings) and "pw@" not in repr(settings)
    assert settings.admin_api_key is not None
    assert settings.admin_api_key.get_secret_value() == "s3cret-value"


def test_a_copy_of_env_example_gives_the_documented_defaults(tmp_path: Path) -> None:
    """`cp .env.example .env` must start: its `VAR=` lines mean "the default", never ""."""
    copied = tmp_path / ".env"
    copied.write_text((ROOT / ".env.example").read_text())
    from_example = load_settings(_env_file=copied)
    assert from_example.model_dump() == load_settings(_env_file=None).model_dump()
    assert from_example.telegram_bot_token is None and from_example.admin_api_key is None
