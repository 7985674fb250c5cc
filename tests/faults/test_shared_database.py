"""Several real `dexdesk` processes on one database: one owner per order, take-over after a lease, cancel.

Nothing is mocked: real processes, a real SQLite file or PostgreSQL schema, SIGKILL for crashes.
The figures (processes side by side, orders, lost, executed twice, stranded) go into the fault
tally printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from engine.model.domain import OrderStatus, parse_timestamp
from engine.model.log_kinds import LogKind
from engine.storage import OrderStore
from tests.conftest import postgres_schema
from tests.faults.support import DEXDESK, TALLY, assert_nothing_lost, dexdesk_env, eventually

pytestmark = pytest.mark.slow

Rows = dict[str, tuple[str, int, str | None]]


@pytest.fixture(params=["sqlite", "postgres"])
async def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        return
    async with postgres_schema() as url:
        yield url


async def _spawn(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        DEXDESK, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def _finish(process: asyncio.subprocess.Process, within: float = 180) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _rows(path: Path) -> Rows:
    """Order id → (status, attempts, its owner's lease expiry), read-only, as another program would see the file."""
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            query = (
                "SELECT orders.id, status, attempts, owners.lease_until FROM orders"
                " LEFT JOIN owners ON owners.id = orders.owner"
            )
            return {row[0]: (row[1], row[2], row[3]) for row in connection.execute(query)}
    except sqlite3.Error:
        return {}  # the schema is not there yet


async def _all_ids(url: str) -> list[str]:
    store = OrderStore(url)
    await store.open()
    try:
        return [order.id for order in await store.list_orders()]
    finally:
        await store.close()


async def _check_nothing_lost(url: str, expected: int) -> None:
    store = OrderStore(url)
    await store.open()
    try:
        ids = [order.id for order in await store.list_orders()]
        assert len(ids) == expected, f"{len(ids)} orders stored, {expected} submitted"
        await assert_nothing_lost(store, ids)
    finally:
        await store.close()


async def test_two_runs_and_a_resume_at_once_on_one_fresh_database_run_each_order_once(
    shared_url: str, tmp_path: Path
) -> None:
    env = dexdesk_env(tmp_path / "home")
    common = ["--db", shared_url, "--time-scale", "0.05", "--rate-limit", "0"]
    # All three open the fresh database at once: one of them builds the schema, the others wait for it.
    processes = [
        await _spawn("run", "--orders", "150", "--seed", "1", *common, env=env),
        await _spawn("run", "--orders", "150", "--seed", "2", *common, env=env),
        await _spawn("resume", *common, env=env),
    ]
    results = await asyncio.gather(*(_finish(process) for process in processes))
    for code, _out, err in results:
        assert "Traceback" not in err, err
        assert code in (0, 1), err  # `run` exits 1 when one of its orders FAILED
    await _check_nothing_lost(shared_url, 300)
    TALLY.fault(f"3 processes side by side on one {shared_url.split(':')[0]} database, 300 orders")


async def test_a_killed_owners_orders_are_taken_over_only_after_its_lease_expires(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    url = f"sqlite+aiosqlite:///{path}"
    env = dexdesk_env(tmp_path / "home", DEXDESK_LEASE_S="2")
    common = ["--db", url, "--rate-limit", "0", "--seed", "8"]
    owner = await _spawn("run", "--orders", "12", "--concurrency", "3", "--time-scale", "1", *common, env=env)
    try:

        def mid_run() -> bool:
            statuses = Counter(status for status, _, _ in _rows(path).values())
            return len(_rows(path)) == 12 and statuses["SUBMITTED"] + statuses["BUILDING"] + statuses["ROUTING"] > 0

        await eventually(lambda: mid_run() or owner.returncode is not None, "orders in flight", within=40, every=0.02)
        assert owner.returncode is None
    finally:
        if owner.returncode is None:
            owner.kill()  # SIGKILL: the leases stay until they run out
        await owner.wait()
    at_kill = {order_id: row for order_id, row in _rows(path).items() if row[0] not in ("CONFIRMED", "FAILED")}
    assert at_kill, "the kill must leave unfinished orders"

    code, out, err = await _finish(await _spawn("resume", "--time-scale", "0", *common, env=env), within=60)
    assert code == 0, err
    assert "Traceback" not in err
    assert f"resumed {len(at_kill)} unfinished orders" in out
    await _check_nothing_lost(url, 12)
    store = OrderStore(url)
    await store.open()
    try:
        for order_id, (_, _, lease_until) in at_kill.items():
            order = await store.get(order_id)
            assert order is not None
            assert lease_until is not None
            resumed = [entry for entry in order.logs if entry.kind == LogKind.RESUMED]
            assert len(resumed) == 1
            assert resumed[0].timestamp >= parse_timestamp(lease_until), "taken over before the lease ran out"
    finally:
        await store.close()
    TALLY.fault(f"owner SIGKILLed holding {len(at_kill)} orders; taken over after its 2 s lease")


def _settings(home: Path, **values: object) -> None:
    folder = home / "config" / "dexdesk"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(values), encoding="utf-8")


async def _cancel(order_id: str, url: str, env: dict[str, str]) -> tuple[int, str, str]:
    return await _finish(await _spawn("cancel", order_id[:8], "--db", url, env=env), within=30)


async def _wait_rows(path: Path, ready: Callable[[Rows], bool], what: str) -> Rows:
    await eventually(lambda: ready(_rows(path)), what, within=40, every=0.02)
    return _rows(path)


async def test_cancel_from_another_process_stops_queued_and_routing_orders_and_refuses_sent_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.db"
    url = f"sqlite+aiosqlite:///{path}"
    home = tmp_path / "home"
    _settings(home, failure_rate=0)
    env = dexdesk_env(home)
    # At time scale 8 an order spends 1.6 s in ROUTING and 4 s in BUILDING: time for a second
    # process to start (slow on a loaded machine) and cancel it before its swap is sent.
    owner = await _spawn(
        "run", "--orders", "3", "--concurrency", "1", "--time-scale", "8", "--rate-limit", "0", "--db", url, env=env
    )
    try:
        rows = await _wait_rows(
            path,
            lambda rows: sorted(status for status, _, _ in rows.values()) == ["PENDING", "PENDING", "ROUTING"],
            "one order ROUTING and two queued",
        )
        routing = next(order_id for order_id, row in rows.items() if row[0] == "ROUTING")
        queued = sorted(order_id for order_id, row in rows.items() if row[0] == "PENDING")
        code, out, err = await _cancel(routing, url, env)
        assert code == 0, err
        assert "CANCELLED" in out
        code, out, err = await _cancel(queued[0], url, env)
        assert code == 0, err
        sent = await _wait_rows(path, lambda rows: queued[1] in rows and rows[queued[1]][0] == "SUBMITTED", "SUBMITTED")
        assert sent[queued[1]][0] == "SUBMITTED"
        code, _out, err = await _cancel(queued[1], url, env)
        assert code == 1
        assert err.strip().endswith("already SUBMITTED: a sent swap cannot be recalled"), err
        code, _out, err = await _finish(owner, within=90)
        assert code in (0, 1)
        assert "Traceback" not in err, err
    finally:
        if owner.returncode is None:
            owner.kill()
            await owner.wait()

    code, _out, err = await _cancel(queued[1], url, env)
    assert code == 1
    assert "nothing left to cancel" in err
    code, _out, err = await _cancel("ffffffff", url, env)
    assert code == 2
    assert err.strip() == "dexdesk: ID: no order has this id"

    store = OrderStore(url)
    await store.open()
    try:
        executions = await store.executions()
        for order_id in (routing, queued[0]):
            order = await store.get(order_id)
            assert order is not None
            assert order.status is OrderStatus.CANCELLED
            assert order_id not in executions
            assert not any(entry.kind == LogKind.SUBMITTED for entry in order.logs), "a swap was sent"
        finished = await store.get(queued[1])
        assert finished is not None
        assert finished.is_terminal
    finally:
        await store.close()


async def test_cancel_from_another_process_stops_an_order_backing_off(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    url = f"sqlite+aiosqlite:///{path}"
    home = tmp_path / "home"
    _settings(home, failure_rate=1.0)
    env = dexdesk_env(home)
    # At time scale 4 the first back-off lasts 8 s: time for a second process to start and cancel.
    owner = await _spawn("run", "--orders", "1", "--time-scale", "4", "--rate-limit", "0", "--db", url, env=env)
    try:
        rows = await _wait_rows(
            path, lambda rows: any(row[0] == "PENDING" and row[1] >= 1 for row in rows.values()), "a back-off"
        )
        [order_id] = rows
        code, _out, err = await _cancel(order_id, url, env)
        assert code == 0, err
        code, _out, err = await _finish(owner, within=30)
        assert "Traceback" not in err, err
    finally:
        if owner.returncode is None:
            owner.kill()
            await owner.wait()
    store = OrderStore(url)
    await store.open()
    try:
        order = await store.get(order_id)
        assert order is not None
        assert order.status is OrderStatus.CANCELLED
        assert order.attempts == 1, "the retry never started"
        assert order.logs[-1].data is not None
        assert order.logs[-1].data["from"] == "PENDING"
    finally:
        await store.close()
