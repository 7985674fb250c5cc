"""Settings precedence, and saving only what the user changed."""

from __future__ import annotations

import json

import pytest

from engine.config.settings import Settings, load_saved, resolve, save, save_changes


def test_flag_beats_environment_beats_file_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    save(Settings(time_scale=3, concurrency=4))
    monkeypatch.setenv("DEXDESK_TIME_SCALE", "2")
    assert resolve({}).time_scale == 2
    assert resolve({"time_scale": 0.5}).time_scale == 0.5
    assert resolve({}).concurrency == 4
    assert resolve({}).rate_limit == 100


def test_saving_from_the_dialog_never_makes_an_override_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    save(Settings(concurrency=4))
    monkeypatch.setenv("DEXDESK_TIME_SCALE", "0")
    monkeypatch.setenv("DEXDESK_DB_URL", "sqlite+aiosqlite:////tmp/elsewhere.db")
    in_effect = resolve({"rate_limit": 0})
    edited = in_effect.model_copy(update={"concurrency": 6})
    path = save_changes(in_effect, edited)
    saved = json.loads(path.read_text())
    assert saved == load_saved()
    assert saved["concurrency"] == 6
    assert (saved["time_scale"], saved["rate_limit"]) == (1.0, 100), "flag and environment values stay out"
    assert "db_url" not in saved
