"""Fault 6: a hostile or broken database URL, Redis URL or settings file: one clear line at start, exit status 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.cli import main
from tests.faults.support import DEXDESK, TALLY, dexdesk_env, free_port

BAD_FLAGS = [
    (["--db", "mysql://root@localhost/orders"], "db_url"),
    (["--db", ":::"], "db_url"),
    (["--db", "sqlite+aiosqlite:////proc/no/such/folder/orders.db"], "database"),
    (["--db", "sqlite+aiosqlite:////"], "database"),
    # The port is picked when the test runs: an id that changed at each collection would differ between
    # pytest-xdist's workers, which refuse to run then.
    (["--db", "postgresql://nobody:secret@127.0.0.1:FREE_PORT/orders"], "database"),
    (["--db", "postgresql://no_such_role:pw@127.0.0.1:5432/test"], "database"),
    (["--redis", "http://127.0.0.1:6379"], "redis_url"),
    (["--redis", "redis://127.0.0.1:port/0"], "redis_url"),
    (["--redis", "redis://127.0.0.1:6379/zero"], "redis_url"),
    (["--redis", "redis://127.0.0.1:6379/0?sockettimeout=1"], "redis_url"),
    (["--redis", "redis://"], "redis_url"),
    (["--time-scale", "-1"], "time_scale"),
    (["--concurrency", "0"], "concurrency"),
]
BAD_FILES = [
    ("{", "cannot be read"),
    ("[1, 2]", "must hold a JSON object"),
    ('{"time_scale": "fast"}', "time_scale"),
    ('{"redis_url": "redis://:pw@/0"}', "redis_url"),
    ('{"redis_prefix": "has space"}', "redis_prefix"),
    ('{"db_url": 5}', "db_url"),
    ('{"surprise": true}', "surprise"),
]


def _one_clear_line(stderr: str, word: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("dexdesk: "), lines
    assert word in lines[0], lines
    assert "Traceback" not in stderr
    assert "secret" not in stderr, "a password was printed"


# When SQLite cannot open a file, aiosqlite's worker thread may answer after asyncio.run closed
# the loop; in a real process nothing is printed (test_real_process_*), in-process pytest warns.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize(("flags", "word"), BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_bad_url_or_setting_on_the_command_line(
    flags: list[str], word: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = [flag.replace("FREE_PORT", str(free_port())) for flag in flags]
    assert main([*flags, "list"]) == 2
    _one_clear_line(capsys.readouterr().err, word)
    TALLY.fault("bad setting on the command line")


@pytest.mark.parametrize(("content", "word"), BAD_FILES, ids=[content for content, _ in BAD_FILES])
def test_broken_settings_file(
    content: str, word: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "dexdesk").mkdir()
    (tmp_path / "dexdesk" / "settings.json").write_text(content, encoding="utf-8")
    assert main(["info"]) == 2
    _one_clear_line(capsys.readouterr().err, word)
    TALLY.fault("broken settings file")


def test_unreadable_settings_file_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "dexdesk").mkdir()
    (tmp_path / "dexdesk" / "settings.json").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["list"]) == 2
    _one_clear_line(capsys.readouterr().err, "cannot be read")


def test_bad_environment_value(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEXDESK_REDIS_URL", "redis://127.0.0.1:6379/0?nonsense=1")
    assert main(["list"]) == 2
    _one_clear_line(capsys.readouterr().err, "DEXDESK_REDIS_URL")


def test_unreachable_redis_is_reported_but_never_stops_the_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Redis is optional: a well-formed URL nobody answers gives a notice, and the order still runs."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    db = ["--db", f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}", "--time-scale", "0"]
    status = main(["submit", "--pair", "SOL-USDC", "--amount", "1", "--direction", "buy", "--redis", url, *db])
    captured = capsys.readouterr()
    assert status in (0, 1)
    assert "Redis mirror disconnected" in captured.err
    assert "connection refused" in captured.err
    assert main(["info", "--redis", url, *db[:2]]) == 0
    assert "redis mirror: disconnected" in capsys.readouterr().out
    TALLY.fault("Redis unreachable for a CLI run")


@pytest.mark.slow
def test_real_process_with_a_broken_database_url(tmp_path: Path) -> None:
    result = subprocess.run(
        [DEXDESK, "--db", f"postgresql://nobody:secret@127.0.0.1:{free_port()}/x", "resume"],
        env=dexdesk_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    _one_clear_line(result.stderr, "cannot open database")
    TALLY.fault("broken database URL, real process")
