"""Issue 21: a `serve` WebSocket follower hears every state of orders another real process runs.

A real `dexdesk serve` and a real `dexdesk run` on one database (SQLite file, PostgreSQL schema);
`run` executes 30 orders at time scale 0 with network failures, so retries come and go between two
looks of serve's change feed. Clients of serve hear them through real WebSockets: the board feed
(`/ws/orders`, connected before the run starts) must carry each order's states exactly as its
stored log went through them, PENDING first, terminal last, nothing skipped; a per-order follower
(`/ws/orders/{id}`, joined as soon as the board announces the order) must carry a contiguous tail of
the same states, its first message being the state at the time it joined.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.api.client import TERMINAL, Followed, follow
from tests.api.server import started
from tests.faults.support import DEXDESK, dexdesk_env, eventually

pytestmark = pytest.mark.slow

ORDERS = 30
State = tuple[str, int | None]  # the status, and a retry's attempt


def _fold(states: list[State]) -> list[State]:
    """Consecutive repeats of one state folded into one (a log has several lines per state)."""
    folded: list[State] = []
    for state in states:
        if not folded or folded[-1] != state:
            folded.append(state)
    return folded


def _state(message: dict[str, Any]) -> State:
    return str(message["status"]), message.get("attempt")


def _log_states(order: dict[str, Any]) -> list[str]:
    """The statuses the stored log went through, in order (the one truth the followers are held to)."""
    statuses: list[str] = []
    for entry in order["logs"]:
        if not statuses or statuses[-1] != entry["status"]:
            statuses.append(entry["status"])
    return statuses


async def _board(url: str, heard: dict[str, list[State]], opened: asyncio.Event, seen: asyncio.Queue[str]) -> None:
    async with connect(f"{url}/ws/orders", max_queue=None, open_timeout=20) as websocket:
        opened.set()
        async for frame in websocket:
            message = json.loads(frame)
            order_id = str(message["orderId"])
            if order_id not in heard:
                seen.put_nowait(order_id)
            heard[order_id].append(_state(message))


async def _run_orders(database: str, home: Path) -> tuple[int, str]:
    """`dexdesk run` in its own process, with 40 % of attempts failing the way networks do."""
    folder = home / "config" / "dexdesk"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps({"failure_rate": 0.4}), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        DEXDESK,
        *("run", "--orders", str(ORDERS), "--db", database, "--time-scale", "0", "--rate-limit", "0", "--seed", "3"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dexdesk_env(home),
    )
    _out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, err.decode()


async def test_a_serve_websocket_hears_every_state_of_orders_another_process_runs(db_url: str, tmp_path: Path) -> None:
    server = started(tmp_path / "serve", database=db_url)
    board: dict[str, list[State]] = defaultdict(list)
    followed: dict[str, asyncio.Task[Followed]] = {}
    new_ids: asyncio.Queue[str] = asyncio.Queue()
    opened = asyncio.Event()
    try:
        listening = asyncio.create_task(_board(server.ws_url, board, opened, new_ids))
        await asyncio.wait_for(opened.wait(), 20)

        async def follow_each() -> None:
            while True:
                order_id = await new_ids.get()
                followed[order_id] = asyncio.create_task(follow(f"{server.ws_url}/ws/orders/{order_id}"))

        joining = asyncio.create_task(follow_each())
        status, err = await _run_orders(db_url, tmp_path / "run")
        assert status == 0, err
        assert "Traceback" not in err, err
        await eventually(
            lambda: len(board) == ORDERS and all(states[-1][0] in TERMINAL for states in board.values()),
            "the board feed to hear every order end",
            within=60,
        )
        joining.cancel()
        streams = dict(zip(followed, await asyncio.wait_for(asyncio.gather(*followed.values()), 60), strict=True))
        async with httpx.AsyncClient(base_url=server.url) as client:
            stored = {order_id: (await client.get(f"/api/orders/{order_id}")).json() for order_id in board}
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
    finally:
        code, serve_err = server.stop()
    assert code == 0, serve_err
    assert "Traceback" not in serve_err, serve_err

    retried = [order_id for order_id, states in board.items() if any(attempt for _, attempt in states)]
    assert retried, "no retry happened: the test would not show retries heard"
    for order_id, states in board.items():
        heard = _fold(states)
        assert heard[0] == ("PENDING", None), f"{order_id[:8]} board: {heard}"
        assert [status for status, _ in heard] == _log_states(stored[order_id]), (
            f"{order_id[:8]} board {heard} ≠ log {_log_states(stored[order_id])}"
        )
        stream = streams[order_id]
        assert stream.close_code == 1000, (order_id, stream.close_code, stream.close_reason)
        tail = [_state(message) for message in stream.messages]
        assert tail == heard[len(heard) - len(tail) :], f"{order_id[:8]} stream {tail} is not a tail of {heard}"
