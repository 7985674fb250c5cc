"""Where dexdesk keeps its files: the platform's data and config directories (platformdirs)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "dexdesk"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / "dexdesk.db"


def default_db_url() -> str:
    return f"sqlite+aiosqlite:///{default_db_path()}"


def settings_path() -> Path:
    return config_dir() / "settings.json"
