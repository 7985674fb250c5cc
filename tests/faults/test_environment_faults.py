"""Issue 16 items 10, 14, 15: Ctrl-C at start-up and during a bench, PostgreSQL URLs, a database
file deleted while a run writes to it. Real processes, real files, the real PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.exc import OperationalError

from app.bench.databases import finished_orders
from engine.storage import OrderStore
from tests.conftest import _pg_dsn
from tests.faults.hardening import HARDENING, dexdesk, one_line, sqlite_with_orders
from tests.faults.support import DEXDESK, TALLY, dexdesk_env, eventually
from tests.services import POSTGRES_ADMIN_URL, require

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)


def _interrupted_cleanly(process: subprocess.Popen[str], what: str) -> str:
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        HARDENING.hangs += 1
        raise AssertionError(f"{what}: still running 30 s after Ctrl-C") from None
    HARDENING.faults += 1
    TALLY.fault(what)
    assert process.returncode == 130, (process.returncode, stderr)
    real = [line for line in stderr.splitlines() if not line.startswith("import time:")]
    if "Traceback" in "\n".join(real):
        HARDENING.tracebacks += 1
    assert "Traceback" not in "\n".join(real), real
    return "\n".join(real)


@pytest.mark.parametrize("module", ["pydantic", "sqlalchemy", "engine.config.settings"])
def test_ctrl_c_while_modules_import_exits_130_quietly(module: str, tmp_path: Path) -> None:
    """Python reports each import as it finishes (PYTHONPROFILEIMPORTTIME): interrupt right after this one."""
    process = subprocess.Popen(
        [DEXDESK, "info"],
        env=dexdesk_env(tmp_path, PYTHONPROFILEIMPORTTIME="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("import time:") and line.split("|")[-1].strip() == module:
            process.send_signal(signal.SIGINT)
            break
    else:
        raise AssertionError(f"{module} was never imported")
    _interrupted_cleanly(process, f"Ctrl-C after importing {module}")


def test_ctrl_c_during_a_bench_exits_130_and_removes_its_scratch_database(tmp_path: Path) -> None:
    url = sqlite_with_orders(tmp_path, 1)
    process = subprocess.Popen(
        [DEXDESK, "bench", "export", "--orders", "500000", "--db", url],
        env=dexdesk_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    asyncio.run(eventually(lambda: list(tmp_path.glob(".dexdesk-bench-*/bench.db")), "the bench's scratch file"))
    process.send_signal(signal.SIGINT)
    _interrupted_cleanly(process, "Ctrl-C during a bench")
    assert not list(tmp_path.glob(".dexdesk-bench-*"))


def test_database_file_deleted_during_a_run_stops_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    env = dexdesk_env(tmp_path)
    args = ["--db", f"sqlite:///{path}", "--time-scale", "0", "--rate-limit", "0", "run", "--orders", "20000"]
    process = subprocess.Popen([DEXDESK, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def some_stored() -> bool:
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
                return bool(connection.execute("SELECT count(*) FROM orders").fetchone()[0])
        except sqlite3.Error:
            return False

    asyncio.run(eventually(some_stored, "the run's first orders", within=60))
    path.unlink()
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        HARDENING.hangs += 1
        raise
    assert process.returncode == 2, stderr
    line = [text for text in stderr.splitlines() if text.startswith("dexdesk: ")]
    assert len(line) == 1, stderr
    assert "deleted" in line[0]
    assert "Traceback" not in stderr
    HARDENING.faults += 1
    # Meanwhile a read-only command must say it is gone, not make a new empty file there.
    result = dexdesk(tmp_path, "--db", f"sqlite:///{path}", "info")
    assert result.returncode == 0, result.stderr
    assert "the database does not exist" in result.stdout
    listed = dexdesk(tmp_path, "--db", f"sqlite:///{path}", "list")
    assert listed.returncode == 2
    one_line(listed.stderr, "does not exist", what="list on a deleted database file")
    assert not path.exists()


def test_database_file_replaced_during_a_run_stops(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    other = tmp_path / "other.db"
    sqlite_with_orders(tmp_path, 1)
    path.rename(other)
    args = ["--db", f"sqlite:///{path}", "--time-scale", "0", "--rate-limit", "0", "run", "--orders", "20000"]
    process = subprocess.Popen([DEXDESK, *args], env=dexdesk_env(tmp_path), stderr=subprocess.PIPE, text=True)
    asyncio.run(eventually(path.exists, "the new database file", within=60))
    asyncio.run(eventually(lambda: path.stat().st_size > 100_000, "some orders stored", within=60))
    other.rename(path)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2, stderr
    assert "replaced" in stderr
    assert "Traceback" not in stderr
    HARDENING.faults += 1


# -- PostgreSQL ------------------------------------------------------------------------------


async def _drop(schema: str) -> None:
    connection = await asyncpg.connect(_pg_dsn())
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


def test_missing_schema_is_created_and_said_once_sslmode_is_understood(tmp_path: Path) -> None:
    require("postgres")
    schema = f"t_new_{uuid.uuid4().hex[:10]}"
    url = f"{POSTGRES_ADMIN_URL}?schema={schema}&sslmode=disable"
    try:
        listed = dexdesk(tmp_path, "--db", url, "list")
        assert listed.returncode == 2
        one_line(listed.stderr, "does not exist", what="list on a schema that does not exist")
        first = dexdesk(tmp_path, "--db", url, "--time-scale", "0", "run", "--orders", "2")
        assert first.returncode == 0, first.stderr
        assert first.stderr.count(f"created PostgreSQL schema '{schema}'") == 1
        second = dexdesk(tmp_path, "--db", url, "--time-scale", "0", "run", "--orders", "2")
        assert second.returncode == 0, second.stderr
        assert "created" not in second.stderr
    finally:
        asyncio.run(_drop(schema))


def test_two_processes_start_together_on_a_fresh_schema(tmp_path: Path) -> None:
    require("postgres")
    for _ in range(3):
        schema = f"t_race_{uuid.uuid4().hex[:10]}"
        url = f"{POSTGRES_ADMIN_URL}?schema={schema}"
        args = [DEXDESK, "--db", url, "--time-scale", "0", "run", "--orders", "3"]
        env = dexdesk_env(tmp_path)
        try:
            processes = [subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
            results = [process.communicate(timeout=60)[1] for process in processes]
            assert [process.returncode for process in processes] == [0, 0], results
            assert not any("duplicate key" in text for text in results)
            assert sum(text.count("created PostgreSQL schema") for text in results) == 1
            HARDENING.faults += 1
        finally:
            asyncio.run(_drop(schema))


async def test_a_port_that_is_not_postgresql_is_given_up_on_in_10_s(tmp_path: Path) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        result = await asyncio.to_thread(
            dexdesk, tmp_path, "--db", f"postgresql://postgres@127.0.0.1:{port}/test", "list", timeout=30
        )
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert result.returncode == 2
    one_line(result.stderr, f"127.0.0.1:{port}", "PostgreSQL", what="PostgreSQL URL at a port that never answers")
    assert elapsed < 10 + 5  # the connect timeout, plus the interpreter starting up on a busy machine


async def test_a_store_whose_file_was_deleted_never_makes_an_empty_one_there(tmp_path: Path) -> None:
    """A connection opened after the deletion (a pool's new one, a last read) fails; the path stays empty."""
    path = tmp_path / "orders.db"
    store = OrderStore(f"sqlite+aiosqlite:///{path}")
    await store.open()
    try:
        await store.insert(finished_orders(3))
        path.unlink()
        with pytest.raises(OperationalError):
            async with store.engine.connect() as connection:
                await connection.exec_driver_sql("SELECT count(*) FROM orders")
        assert not path.exists(), "a new, empty database was made where the deleted one was"
    finally:
        await store.close()
