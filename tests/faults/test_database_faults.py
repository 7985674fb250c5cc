"""Issue 16 items 4 and 5: a database that refuses for good stops the command with one line, exit 2.

Read-only, another application's SQLite file and a damaged file are permanent: retrying cannot
help, so no "retrying in 2.00 s" forever and no traceback; a damaged file's line says how to
recover it. (Transient faults, locks and dropped connections, are retried: test_sqlite_locked,
test_postgres_dropped.)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.faults.hardening import dexdesk, one_line, sqlite_with_orders

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)

SUBMIT = ("submit", "--pair", "SOL-USDC", "--amount", "1", "--direction", "BUY")


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    sqlite_with_orders(tmp_path, 20)
    path = tmp_path / "orders.db"
    size = path.stat().st_size
    with path.open("r+b") as handle:  # page 1 (the schema) intact, every table page after it garbage
        handle.seek(4096)
        handle.write(b"\x55" * (size - 4096))
    return path


@pytest.mark.parametrize(
    "command",
    [("list",), ("info",), ("export", "out.csv"), ("resume",), ("run", "--orders", "2"), SUBMIT, ("show", "abcd")],
    ids=lambda command: command[0],
)
def test_damaged_file_names_the_damage_and_the_recovery(
    damaged: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    args = [part if part != "out.csv" else str(tmp_path / "out.csv") for part in command]
    result = dexdesk(tmp_path, "--db", f"sqlite:///{damaged}", "--time-scale", "0", *args, timeout=30)
    assert result.returncode == 2, result.stderr
    one_line(result.stderr, "damaged", ".recover", what=f"{command[0]} on a damaged SQLite file")


@pytest.mark.parametrize("command", [SUBMIT, ("run", "--orders", "3")], ids=["submit", "run"])
def test_read_only_database_stops_at_once(tmp_path: Path, command: tuple[str, ...]) -> None:
    sqlite_with_orders(tmp_path, 2)
    url = f"sqlite+aiosqlite:///file:{tmp_path / 'orders.db'}?mode=ro&uri=true"
    result = dexdesk(tmp_path, "--db", url, "--time-scale", "0", *command, timeout=30)
    assert result.returncode == 2, result.stderr
    one_line(result.stderr, "read-only", what=f"{command[0]} on a read-only database")


@pytest.mark.parametrize("command", [("list",), SUBMIT, ("resume",)], ids=["list", "submit", "resume"])
def test_another_applications_file_is_refused_and_left_as_it_was(tmp_path: Path, command: tuple[str, ...]) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT)")
        connection.execute("INSERT INTO orders (customer) VALUES ('ada')")
    result = dexdesk(tmp_path, "--db", f"sqlite:///{path}", *command, timeout=30)
    assert result.returncode == 2, result.stderr
    one_line(result.stderr, "not a dexdesk database", what=f"{command[0]} on another application's file")
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"orders"}
