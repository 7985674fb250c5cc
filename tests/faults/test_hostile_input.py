"""Issue 16 items 6, 8, 9, 11, 12, 16, 17, 18, 19: each hostile input ends in one clear line.

In-process where the command only parses and refuses; real processes where a file or a server
is involved. Each case failed before its fix (a traceback, a wrong message, or silent damage).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.cli import main
from engine.trading.router import _percents
from tests.faults.hardening import dexdesk, one_line, sqlite_with_orders

REFUSED = [
    (["list", "--limit", "99999999999999999999"], "limit"),
    (["list", "--limit", "-1"], "limit"),
    (["--demo", "-1"], "--demo"),
    (["--demo", "0", "--screenshot", "f.png"], "--demo"),
    (["--demo", "3", "--screenshot", "x.unknownext"], ".png"),
    (["--time-scale", "nan", "list"], "finite"),
    (["--db", "sqlite://", "list"], "in-memory"),
    (["--db", "sqlite:///:memory:", "list"], "in-memory"),
    (["--db", "postgresql://postgres@127.0.0.1:5432/test?schema=", "list"], "?schema= is empty"),
    (["--db", "postgresql://postgres@127.0.0.1:5432/test?sslmode=sometimes", "list"], "sslmode"),
    (["submit", "--pair", "ſol-usdc", "--amount", "1", "--direction", "BUY"], "look like SOL-USDC"),
    (["submit", "--pair", "SOL-USDC", "--amount", "-inf", "--direction", "BUY"], "amount: must be finite"),
    (["submit", "--pair", "SOL-USDC", "--amount", "-1", "--direction", "BUY"], "amount: must be greater than 0"),
    (["run", "--orders", "1000001"], "1,000,000"),
    (["bench", "export", "--orders", "2000000"], "1,000,000"),
]


@pytest.mark.parametrize(("argv", "word"), REFUSED, ids=[" ".join(argv) for argv, _ in REFUSED])
def test_refused_with_one_line(argv: list[str], word: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    command = argv if "--db" in argv else ["--db", url, *argv]
    assert main(command) == 2
    one_line(capsys.readouterr().err, word, what=" ".join(argv))
    assert not (tmp_path / "orders.db").exists()


def test_screenshot_into_a_folder_says_which_formats_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", f"sqlite:///{tmp_path / 'o.db'}", "--demo", "2", "--screenshot", str(tmp_path)]) == 2
    one_line(capsys.readouterr().err, "folder", what="--screenshot into a folder")


@pytest.mark.parametrize("prefix", ["%", "_", "", "%%%%", "____"])
def test_show_takes_the_prefix_literally(prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_with_orders(tmp_path, 3)
    capsys.readouterr()
    assert main(["--db", url, "show", prefix]) == 2
    one_line(capsys.readouterr().err, "ID", what=f"show {prefix!r}")


def test_slippage_message_shows_the_difference() -> None:
    from decimal import Decimal

    assert _percents(Decimal("0.010004"), Decimal("0.01")) == "1.0004% exceeds tolerance 1.0000%"
    assert _percents(Decimal("0.0153"), Decimal("0.01")) == "1.53% exceeds tolerance 1.00%"


@pytest.mark.parametrize(
    ("content", "word"),
    [
        ('{"concurrency": true}', "concurrency"),
        ('{"time_scale": "0.5"}', "time_scale"),
        ("[" * 100_000 + "]" * 100_000, "settings file"),
        ('{"time_scale": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deep"),
        ('{"time_scale": [[1]]}', "time_scale"),
        ("{" + " " * 70_000 + "}", "KiB"),
    ],
    ids=["true as a number", "string as a float", "nested 100,000 deep", "nested value", "a list", "too large"],
)
def test_settings_file_is_strict_and_capped(
    content: str, word: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "dexdesk").mkdir()
    (tmp_path / "dexdesk" / "settings.json").write_text(content, encoding="utf-8")
    assert main(["info"]) == 2
    one_line(capsys.readouterr().err, word, what="hostile settings file")


@pytest.mark.slow
def test_settings_file_linked_to_an_endless_device(tmp_path: Path) -> None:
    (tmp_path / "config" / "dexdesk").mkdir(parents=True)
    (tmp_path / "config" / "dexdesk" / "settings.json").symlink_to("/dev/zero")
    result = dexdesk(tmp_path, "info", timeout=30)
    assert result.returncode == 2
    one_line(result.stderr, "not a regular file", what="settings file linked to /dev/zero")


@pytest.mark.slow
def test_bench_accepts_the_plain_sqlite_scheme_and_never_touches_the_users_file(tmp_path: Path) -> None:
    url = sqlite_with_orders(tmp_path, 3)
    before = (tmp_path / "orders.db").read_bytes()
    for bench in ("engine", "export"):
        result = dexdesk(
            tmp_path, "bench", bench, "--orders", "50", "--json", "--db", f"sqlite:///{tmp_path / 'orders.db'}"
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["orders"] == 50
    with sqlite3.connect(tmp_path / "orders.db") as connection:
        assert connection.execute("SELECT count(*) FROM orders").fetchone() == (3,)
    assert (tmp_path / "orders.db").read_bytes() == before
    assert not list(tmp_path.glob(".dexdesk-bench-*"))
    assert url


@pytest.mark.slow
def test_bench_accepts_the_plain_postgresql_scheme(tmp_path: Path) -> None:
    from tests.services import POSTGRES_ADMIN_URL, require

    require("postgres")
    plain = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    result = dexdesk(tmp_path, "bench", "export", "--orders", "50", "--json", "--db", plain)
    assert result.returncode == 0, result.stderr


def test_a_big_list_prints_as_plain_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_with_orders(tmp_path, 600)
    capsys.readouterr()
    assert main(["--db", url, "list", "--limit", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 601
    assert lines[0].split()[:2] == ["created", "(UTC)"]
    assert all(len(line.split()) >= 8 for line in lines[1:])
