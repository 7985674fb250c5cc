"""User settings: flag, then environment, then the saved settings file, then the default.

Every value is checked here, so a hostile or broken setting stops the app at start with one
clear line naming the setting, never a traceback.
"""

from __future__ import annotations

import json
import os
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from engine.config.paths import default_db_url, settings_path
from engine.listeners.mirror_keys import DEFAULT_NAMESPACE, NAMESPACE_RULE, check_redis_url
from engine.runtime.engine import EngineSettings, engine_settings
from engine.storage.postgres_url import check_postgres_query, check_postgres_url_text

ENVIRONMENT = {
    "db_url": "DEXDESK_DB_URL",
    "redis_url": "DEXDESK_REDIS_URL",
    "time_scale": "DEXDESK_TIME_SCALE",
    "redis_prefix": "DEXDESK_REDIS_PREFIX",
    "queue_url": "DEXDESK_QUEUE_URL",
    "queue_name": "DEXDESK_QUEUE_NAME",
    "lease_s": "DEXDESK_LEASE_S",
}
# The BullMQ queue every producer and worker of a cluster shares unless told otherwise.
QUEUE_NAME = "dexdesk-orders"
MAX_SETTINGS_BYTES = 64 * 1024
SUPPORTED_DATABASES = ("sqlite+aiosqlite", "postgresql+asyncpg")
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and says what is allowed."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    db_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = DEFAULT_NAMESPACE
    time_scale: float = Field(1.0, ge=0, le=1000, allow_inf_nan=False)
    concurrency: int = Field(10, ge=1, le=1000)
    rate_limit: int = Field(100, ge=0, le=1_000_000)
    seed: int | None = Field(None, ge=0, le=2**63)
    slippage_tolerance: Decimal = Field(Decimal("0.01"), gt=0, le=Decimal("0.5"))
    failure_rate: float = Field(0.05, ge=0, le=1, allow_inf_nan=False)
    theme: Literal["dark", "light"] = "dark"
    """The desk's colours: dark for a long day at the screen, light for a bright room or a projector."""
    desktop_notifications: bool = False
    limit_warning_pct: float = Field(5.0, ge=0, le=100, allow_inf_nan=False)
    """The desk's ticket asks before sending a limit more than this % through the market (a fat finger); 0 = never."""
    """Also tell CONFIRMED/FAILED of the desk's own orders and a finished burst as a desktop notification (no sound)."""
    # The desk serves the HTTP + WebSocket API on 127.0.0.1 at this port while it runs; None = off.
    serve_api_port: int | None = Field(None, ge=1, le=65535)
    # Cluster mode: orders go to this Redis queue and `dexdesk worker` processes run them.
    queue_url: str | None = None
    # Several clusters may share one Redis, each on its own queue (and its own rate window).
    queue_name: str = QUEUE_NAME
    # The rate limit's window: at most `rate_limit` attempt starts in any `rate_window_s` seconds.
    rate_window_s: float = Field(60.0, gt=0, le=86_400, allow_inf_nan=False)
    # Seconds a process's claim on an order holds without renewal: how soon another process takes
    # over the orders of one that died (renewed every third of it while the owner lives).
    lease_s: float = Field(10.0, ge=0.3, le=3600, allow_inf_nan=False)

    @field_validator("db_url")
    @classmethod
    def _check_db_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            url = make_url(value)
        except ArgumentError as error:
            raise ValueError(f"not a database URL ({error})") from None
        # People write the plain scheme; dexdesk needs the asyncio driver of it.
        url = url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))
        if url.drivername not in SUPPORTED_DATABASES:
            raise ValueError(f"must start with one of {', '.join(d + '://' for d in SUPPORTED_DATABASES)}")
        if url.get_backend_name() == "sqlite" and _in_memory(url.database, url.query):
            raise ValueError(
                "an in-memory SQLite database loses every order when dexdesk exits; "
                "give a file, e.g. sqlite:///orders.db"
            )
        if url.get_backend_name() == "postgresql":
            check_postgres_url_text(value)
            check_postgres_query(url.query)
        return url.render_as_string(hide_password=False)

    @field_validator("redis_url", "queue_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return check_redis_url(value)

    @field_validator("redis_prefix", "queue_name")
    @classmethod
    def _check_redis_prefix(cls, value: str) -> str:
        if not NAMESPACE_RULE.fullmatch(value):
            raise ValueError("must be 1-64 letters, digits or _.:- starting with a letter or digit")
        return value

    @property
    def database_url(self) -> str:
        return self.db_url or default_db_url()

    def engine(self, seed: int) -> EngineSettings:
        return engine_settings(
            time_scale=self.time_scale,
            concurrency=self.concurrency,
            rate_limit=self.rate_limit,
            rate_window_s=self.rate_window_s,
            seed=seed,
            slippage_tolerance=self.slippage_tolerance,
            failure_rate=self.failure_rate,
            lease_s=self.lease_s,
        )

    def saved_form(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _in_memory(database: str | None, query: Any) -> bool:
    if not database or database == ":memory:":
        return True
    return database.startswith("file:") and ("mode=memory" in database or query.get("mode") == "memory")


def _describe(error: ValidationError, source: str) -> SettingsError:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "settings"
    message = first["msg"].removeprefix("Value error, ")
    return SettingsError(f"{field} ({source}): {message}")


def load_saved(path: Path | None = None) -> dict[str, Any]:
    """The saved settings, checked strictly: a number must be a JSON number, a switch a JSON boolean."""
    path = path or settings_path()
    if not path.exists() and not path.is_symlink():
        return {}
    text = _read_capped(path)
    try:
        raw = json.loads(text)
    except RecursionError:
        raise SettingsError(f"settings file {path} cannot be read: nested too deep") from None
    except json.JSONDecodeError as error:
        raise SettingsError(f"settings file {path} cannot be read: {error}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"settings file {path} must hold a JSON object")
    if any(isinstance(value, dict | list) for value in raw.values()):
        key = next(key for key, value in raw.items() if isinstance(value, dict | list))
        raise SettingsError(f"{key} (settings file {path}): must be a plain value, not a list or object")
    try:
        Settings.model_validate_json(text, strict=True)
    except ValidationError as error:
        raise _describe(error, f"settings file {path}") from None
    return raw


def _read_capped(path: Path) -> str:
    """The file's text, refusing what is not a small regular file (a symlink to /dev/zero never ends)."""
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise SettingsError(f"settings file {path} is not a regular file")
            data = handle.read(MAX_SETTINGS_BYTES + 1)
    except OSError as error:
        raise SettingsError(f"settings file {path} cannot be read: {error.strerror or error}") from None
    if len(data) > MAX_SETTINGS_BYTES:
        raise SettingsError(f"settings file {path} is larger than {MAX_SETTINGS_BYTES // 1024} KiB; it cannot be ours")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SettingsError(f"settings file {path} cannot be read: {error}") from None


def resolve(flags: dict[str, Any], *, environ: dict[str, str] | None = None, path: Path | None = None) -> Settings:
    """Merge the four sources, most specific first, and validate each as it is taken."""
    environ = dict(os.environ) if environ is None else environ
    merged: dict[str, Any] = dict(load_saved(path))
    for field, variable in ENVIRONMENT.items():
        if environ.get(variable):
            merged[field] = environ[variable]
            try:
                Settings.model_validate({field: environ[variable]})
            except ValidationError as error:
                raise _describe(error, f"environment {variable}") from None
    for field, value in flags.items():
        if value is not None:
            merged[field] = value
            try:
                Settings.model_validate({field: value})
            except ValidationError as error:
                raise _describe(error, "command line") from None
    return Settings.model_validate(merged)


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings file atomically, so a crash never leaves half a file behind."""
    return _write(settings.saved_form(), path)


def _write(values: dict[str, Any], path: Path | None) -> Path:
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(values, indent=2), encoding="utf-8")
    temporary.replace(path)
    return path


def save_changes(before: Settings, after: Settings, path: Path | None = None) -> Path:
    """Save only what the user changed, on top of the saved file.

    The settings in effect also hold values from flags and DEXDESK_* variables (or a demo run's
    overrides); writing all of them would make a one-off override permanent.
    """
    saved = load_saved(path)
    edited = after.saved_form()
    for name in Settings.model_fields:
        if getattr(before, name) == getattr(after, name):
            continue
        if name in edited:
            saved[name] = edited[name]
        else:
            saved.pop(name, None)  # cleared in the dialog, e.g. no Redis URL any more
    Settings.model_validate(saved)
    return _write(saved, path)
