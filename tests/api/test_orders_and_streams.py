"""POST an order, follow it over WebSocket to its end: the design's flow against a real `dexdesk serve`."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

import httpx
import pytest

from engine.model.jsonfmt import dumps
from tests.api.client import CONTRACT_KEYS, TERMINAL, Followed, follow
from tests.api.server import ServeProcess
from tests.faults.support import eventually

pytestmark = pytest.mark.slow


async def _post(client: httpx.AsyncClient, body: dict[str, object]) -> str:
    answer = await client.post("/api/orders", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["orderId"])


async def test_post_then_websocket_carries_the_contract_messages_to_the_end(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/api/orders", json={"pair": "SOL-USDC", "amount": 10.5, "direction": "BUY"})
        assert answer.status_code == 201
        assert answer.headers["content-type"] == "application/json"
        created = answer.json()
        assert set(created) == {"orderId", "status", "message"}
        assert created["status"] == "PENDING"
        assert created["message"] == "Order created and queued for processing"
        assert answer.headers["location"] == f"/api/orders/{created['orderId']}"
        seen = await follow(f"{server.ws_url}/ws/orders/{created['orderId']}")
        stored = (await client.get(f"/api/orders/{created['orderId']}")).json()

    assert seen.close_code == 1000
    assert seen.statuses[-1] in TERMINAL
    assert seen.statuses[-1] == stored["status"]
    for text, message in zip(seen.texts, seen.messages, strict=True):
        assert set(message) <= CONTRACT_KEYS
        assert message["orderId"] == created["orderId"]
        assert text == dumps(message), "not the compact contract encoding (the bytes `submit --json` prints)"
        assert message["timestamp"].endswith("Z")
        assert len(message["timestamp"]) == 24
    last = seen.messages[-1]
    if last["status"] == "CONFIRMED":
        assert last["txHash"] == stored["txHash"]
        assert last["executionPrice"] == Decimal(str(stored["executionPrice"]))
        assert last["dex"] in ("raydium", "meteora")
    assert stored["logs"][0]["kind"] == "received"
    assert {"timestamp", "status", "kind", "message", "data"} == set(stored["logs"][0])


async def test_a_late_websocket_gets_the_current_state_then_closes(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        order_id = await _post(client, {"pair": "eth-usdc", "amount": "0.5", "direction": "sell"})

        async def ended() -> bool:
            return (await client.get(f"/api/orders/{order_id}")).json()["status"] in TERMINAL

        await eventually(ended, "the order to end")
        stored = (await client.get(f"/api/orders/{order_id}")).json()
    seen = await follow(f"{server.ws_url}/ws/orders/{order_id}")
    assert seen.statuses == [stored["status"]]
    assert seen.messages[0]["timestamp"] == stored["updatedAt"]
    assert seen.close_code == 1000


async def test_an_order_stored_before_the_server_started_is_read_from_the_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The feed remembers only what it heard since it started: older orders come from the database."""
    from tests.api.server import started

    home = tmp_path_factory.mktemp("restarted")
    first = started(home)
    try:
        async with httpx.AsyncClient(base_url=first.url) as client:
            order_id = await _post(client, {"pair": "SOL-USDC", "amount": "3", "direction": "BUY"})
            ended = await follow(f"{first.ws_url}/ws/orders/{order_id}")
    finally:
        status, err = first.stop()
    assert status == 0, err
    second = started(home)
    try:
        seen = await follow(f"{second.ws_url}/ws/orders/{order_id}")
        async with httpx.AsyncClient(base_url=second.url) as client:
            stored = (await client.get(f"/api/orders/{order_id}")).json()
    finally:
        status, err = second.stop()
    assert status == 0, err
    assert seen.close_code == 1000
    assert seen.statuses == [stored["status"]] == [ended.statuses[-1]]
    assert seen.messages[0]["timestamp"] == stored["updatedAt"]


async def test_an_unknown_order_closes_with_4404_and_a_reason(server: ServeProcess) -> None:
    for order_id in ("00000000-0000-4000-8000-000000000000", "not-an-id"):
        seen = await follow(f"{server.ws_url}/ws/orders/{order_id}")
        assert seen.texts == []
        assert seen.close_code == 4404
        assert order_id in seen.close_reason


async def test_200_websockets_each_follow_their_own_order_with_no_gap_and_no_repeat(server: ServeProcess) -> None:
    """A board feed connected first sees every update of every order; each follower's frames must be
    exactly the tail of its order's sequence, starting at the state it joined in."""
    board: list[str] = []
    board_open = asyncio.Event()

    async def watch_board() -> None:
        from websockets.asyncio.client import connect

        async with connect(f"{server.ws_url}/ws/orders", max_queue=None) as websocket:
            board_open.set()
            async for frame in websocket:
                board.append(str(frame))

    board_task = asyncio.create_task(watch_board())
    await asyncio.wait_for(board_open.wait(), 20)
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:

        async def one(index: int) -> tuple[str, list[str], int | None]:
            pair = ("SOL-USDC", "ETH-USDC", "JUP-USDC", "BONK-USDC")[index % 4]
            amount = {"SOL-USDC": "1.5", "ETH-USDC": "0.25", "JUP-USDC": "100", "BONK-USDC": "100000"}[pair]
            order_id = await _post(client, {"pair": pair, "amount": amount, "direction": ("BUY", "SELL")[index % 2]})
            seen = await follow(f"{server.ws_url}/ws/orders/{order_id}")
            return order_id, seen.texts, seen.close_code

        results = await asyncio.wait_for(asyncio.gather(*(one(index) for index in range(200))), 120)

    def board_done() -> bool:
        ended = {json.loads(text)["orderId"] for text in board if json.loads(text)["status"] in TERMINAL}
        return all(order_id in ended for order_id, _, _ in results)

    await eventually(board_done, "the board feed to see every order end", within=60)
    board_task.cancel()
    by_order: dict[str, list[str]] = {}
    for text in board:
        by_order.setdefault(json.loads(text)["orderId"], []).append(text)
    for order_id, texts, close_code in results:
        assert close_code == 1000
        full = by_order[order_id]
        first = json.loads(texts[0])
        joined_at = [
            index
            for index, text in enumerate(full)
            if (json.loads(text)["status"], json.loads(text)["timestamp"]) == (first["status"], first["timestamp"])
        ]
        assert joined_at, f"{order_id}: the first frame {texts[0]} is no state the order went through"
        assert texts[1:] == full[joined_at[-1] + 1 :], f"{order_id}: gap or repeat after joining"
        assert json.loads(texts[-1])["status"] in TERMINAL


async def test_followers_that_join_mid_flight_see_every_later_state_in_order(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """At a twentieth of real time an order lives ~150 ms: followers join while it runs."""
    from tests.api.server import started

    slow = started(tmp_path_factory.mktemp("slow"), "--time-scale", "0.05")
    try:
        async with httpx.AsyncClient(base_url=slow.url) as client:

            async def post_and_follow() -> tuple[str, Followed]:
                order_id = await _post(client, {"pair": "SOL-USDC", "amount": "2", "direction": "BUY"})
                return order_id, await follow(f"{slow.ws_url}/ws/orders/{order_id}")

            pairs = await asyncio.gather(*(post_and_follow() for _ in range(5)))
            order_ids = [order_id for order_id, _ in pairs]
            followed = [seen for _, seen in pairs]
            stored = [(await client.get(f"/api/orders/{order_id}")).json() for order_id in order_ids]
    finally:
        status, err = slow.stop()
    assert status == 0, err
    lifecycle = ["PENDING", "ROUTING", "BUILDING", "SUBMITTED"]
    assert any(len(seen.texts) > 1 for seen in followed), "no follower joined while its order ran"
    for seen, order in zip(followed, stored, strict=True):
        assert seen.close_code == 1000
        assert seen.statuses[-1] == order["status"]
        if order["attempts"] == 1:  # no retry: the statuses are a tail of the lifecycle, each once
            full = [*lifecycle, order["status"]]
            assert seen.statuses == full[full.index(seen.statuses[0]) :]
        stamps = [message["timestamp"] for message in seen.messages]
        assert stamps == sorted(stamps)


@pytest.mark.redis
async def test_websocket_frames_are_the_bytes_redis_carries(tmp_path_factory: pytest.TempPathFactory) -> None:
    from redis.asyncio import Redis

    from tests.api.server import started
    from tests.services import REDIS_URL, require

    require("redis")
    prefix = f"dexdesk-api-{uuid.uuid4().hex[:12]}"
    mirrored = started(tmp_path_factory.mktemp("mirrored"), "--redis", REDIS_URL, DEXDESK_REDIS_PREFIX=prefix)
    redis = Redis.from_url(REDIS_URL)
    try:
        async with redis.pubsub() as pubsub:
            await pubsub.psubscribe("order-updates:*")  # before the order exists: Redis sees all of it
            async with httpx.AsyncClient(base_url=mirrored.url) as client:
                order_id = await _post(client, {"pair": "SOL-USDC", "amount": "4", "direction": "SELL"})
            seen = await follow(f"{mirrored.ws_url}/ws/orders/{order_id}")
            carried: list[str] = []

            async def read_until_the_end() -> None:
                while not carried or json.loads(carried[-1])["status"] not in TERMINAL:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                    if message is not None and message["channel"] == f"order-updates:{order_id}".encode():
                        carried.append(message["data"].decode())

            await asyncio.wait_for(read_until_the_end(), 20)
    finally:
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        status, err = mirrored.stop()
    assert status == 0, err
    assert seen.texts
    assert seen.texts == carried[-len(seen.texts) :]
