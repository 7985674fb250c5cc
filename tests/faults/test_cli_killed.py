"""Fault 4: the real `dexdesk` process SIGKILLed in PENDING, ROUTING, BUILDING and SUBMITTED, then resumed.

One database, a chain of real subprocesses: `run` is killed while one order routes and the rest
wait, `resume` is killed while an order builds, then while orders are submitted, and a last
`resume` finishes everything. Each kill's states are read from the database after the process
is dead, which is exactly the state the crash left behind.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.model.log_kinds import LogKind
from engine.storage import OrderStore
from tests.faults.support import DEXDESK, TALLY, assert_nothing_lost, dexdesk_env, eventually

pytestmark = pytest.mark.slow

States = dict[str, tuple[str, str | None]]


def _states(path: Path) -> States:
    """Order id → (status, route JSON), read-only, as another program would see the file."""
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            return {row[0]: (row[1], row[2]) for row in connection.execute("SELECT id, status, route FROM orders")}
    except sqlite3.Error:
        return {}  # the schema is not there yet


async def _kill_when(args: list[str], env: dict[str, str], path: Path, ready: Callable[[Counter[str]], bool]) -> States:
    process = await asyncio.create_subprocess_exec(
        DEXDESK, *args, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        await eventually(
            lambda: ready(Counter(status for status, _ in _states(path).values())) or process.returncode is not None,
            f"the states to kill in ({' '.join(args[:1])})",
            within=40,
            every=0.02,
        )
        assert process.returncode is None, f"dexdesk ended before the kill: {process.returncode}"
    finally:
        if process.returncode is None:
            process.kill()  # SIGKILL: no cleanup, no flush, no goodbye
        await process.wait()
    return _states(path)


async def test_cli_killed_in_every_state_resumes_and_ends_each_order_once(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    url = f"sqlite+aiosqlite:///{path}"
    env = dexdesk_env(tmp_path / "home")
    common = ["--db", url, "--rate-limit", "0", "--seed", "21"]
    slow = ["--time-scale", "5"]  # ROUTING lasts 1 s, BUILDING 2.5 s, SUBMITTED 10-15 s
    killed_in: Counter[str] = Counter()
    submitted_routes: dict[str, str] = {}

    def note(states: States, what: str) -> None:
        TALLY.fault(what)
        for order_id, (status, route) in states.items():
            killed_in[status] += 1
            if status == "SUBMITTED" and route:
                submitted_routes[order_id] = json.loads(route)["signature"]

    states = await _kill_when(
        ["run", "--orders", "4", "--concurrency", "1", *slow, *common],
        env,
        path,
        lambda seen: seen["ROUTING"] == 1 and seen["PENDING"] == 3,
    )
    note(states, "dexdesk run SIGKILLed in ROUTING (+3 PENDING)")
    states = await _kill_when(
        ["resume", "--concurrency", "1", *slow, *common], env, path, lambda seen: seen["BUILDING"] == 1
    )
    note(states, "dexdesk resume SIGKILLed in BUILDING")
    states = await _kill_when(["resume", *slow, *common], env, path, lambda seen: seen["SUBMITTED"] >= 2)
    note(states, "dexdesk resume SIGKILLed in SUBMITTED")
    assert {"PENDING", "ROUTING", "BUILDING", "SUBMITTED"} <= set(killed_in), killed_in

    finish = await asyncio.create_subprocess_exec(
        DEXDESK, "resume", "--time-scale", "0", *common, env=env, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(finish.communicate(), 60)
    assert finish.returncode == 0
    assert b"resumed 4 unfinished orders" in output

    store = OrderStore(url)
    await store.open()
    try:
        await assert_nothing_lost(store, list(states))
        for order_id, signature in submitted_routes.items():
            order = await store.get(order_id)
            assert order is not None
            resent = next(
                i
                for i, entry in enumerate(order.logs)
                if entry.kind == LogKind.RESUMED and entry.data and entry.data.get("signature") == signature
            )
            outcome = order.logs[resent + 1]
            # The re-sent transaction either lands under the signature it was built with, or fails
            # like any attempt (and a later attempt builds a new one); it never lands under a new hash.
            if outcome.status == "CONFIRMED":
                assert outcome.data is not None
                assert outcome.data["txHash"] == signature, "a resumed SUBMITTED order landed under a new txHash"
            else:
                assert outcome.status in ("PENDING", "FAILED")
                assert "failed" in outcome.message
    finally:
        await store.close()
