"""`dexdesk serve --queue`: the API as a producer in front of real `dexdesk worker` processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.api.client import TERMINAL, follow
from tests.api.server import started
from tests.cluster.support import cluster
from tests.conftest import postgres_schema, stored_orders
from tests.faults.support import eventually, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
# Producer and workers share one market: the same seed (the server's is 11, see tests/api/server.py).
OPTIONS = ("--time-scale", "0", "--seed", "11")
ORDERS = (
    {"pair": "SOL-USDC", "amount": "2", "direction": "BUY"},
    {"pair": "BONK-USDC", "amount": "250000", "direction": "SELL"},
)


async def test_an_order_posted_to_a_producer_is_run_by_a_worker_and_followed_to_confirmed(tmp_path: Path) -> None:
    async with cluster(tmp_path, *OPTIONS) as running:
        await running.start_worker()
        server = started(tmp_path / "serve", "--queue", running.redis.url, database=running.db_url)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                answers = [await client.post("/api/orders", json=body) for body in ORDERS]
                assert [answer.status_code for answer in answers] == [201, 201], [a.text for a in answers]
                order_ids = [answer.json()["orderId"] for answer in answers]
                followed = await asyncio.gather(*(follow(f"{server.ws_url}/ws/orders/{id_}") for id_ in order_ids))
                stored = [(await client.get(f"/api/orders/{order_id}")).json() for order_id in order_ids]
        finally:
            status, err = server.stop()
        assert status == 0, err
        assert running.recorder is not None
        for order_id, seen, order in zip(order_ids, followed, stored, strict=True):
            assert seen.close_code == 1000
            assert seen.statuses[-1] == "CONFIRMED" == order["status"], (seen.texts, order["logs"][-3:])
            assert order["attempts"] >= 1
            # The worker's messages, byte for byte as Redis carried them (after the join's first frame).

            def carried(order_id: str = order_id) -> bool:
                lines = running.recorder.everything.get(order_id, []) if running.recorder else []
                return bool(lines) and any('"CONFIRMED"' in line for line in lines)

            await eventually(carried, "the recorder to hear the order end")
            heard = running.recorder.everything[order_id]
            assert seen.texts[1:] == heard[len(heard) - len(seen.texts) + 1 :]
            assert set(seen.statuses) <= {"PENDING", "ROUTING", "BUILDING", "SUBMITTED", *TERMINAL}


async def test_a_post_while_the_queue_is_unreachable_is_a_503_and_stores_nothing(tmp_path: Path) -> None:
    async with postgres_schema() as db_url:
        queue = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        server = started(tmp_path / "serve", "--queue", queue, database=db_url)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                refused = await client.post("/api/orders", json=ORDERS[0])
                refused_execute = await client.post(
                    "/api/orders/execute", json={"tokenIn": "SOL", "tokenOut": "USDC", "amount": "1"}
                )
                listed = (await client.get("/api/orders")).json()
        finally:
            status, err = server.stop()
        assert status == 0, err
        for answer in (refused, refused_execute):
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == "application/json"
            assert answer.json() == {
                "error": f"queue: Redis at {queue} is unreachable (connection refused); no order was stored"
            }
        assert listed["orders"] == []
        assert await stored_orders(db_url) == []
