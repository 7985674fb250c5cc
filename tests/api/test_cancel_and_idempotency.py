"""DELETE /api/orders/{id} cancels an order whose swap was not sent; Idempotency-Key makes one order per key."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.api.client import TERMINAL, follow
from tests.api.server import ServeProcess, started

pytestmark = pytest.mark.slow
BODY = {"pair": "SOL-USDC", "amount": "2", "direction": "BUY"}


async def test_the_same_key_makes_one_order(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        headers = {"Idempotency-Key": "client-42-order-7"}
        answers = await asyncio.gather(*(client.post("/api/orders", json=BODY, headers=headers) for _ in range(5)))
        assert {answer.status_code for answer in answers} == {201}
        assert len({answer.json()["orderId"] for answer in answers}) == 1
        other = await client.post("/api/orders", json={**BODY, "amount": "3"}, headers=headers)
        assert other.status_code == 409
        assert other.json()["error"].startswith("Idempotency-Key was already used for another order")
        bad = await client.post("/api/orders", json=BODY, headers={"Idempotency-Key": "k" * 201})
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["field"] == "Idempotency-Key"
        execute = {"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1}
        first = await client.post("/api/orders/execute", json=execute, headers={"Idempotency-Key": "x-1"})
        again = await client.post("/api/orders/execute", json=execute, headers={"Idempotency-Key": "x-1"})
        assert first.json()["orderId"] == again.json()["orderId"]


async def test_delete_cancels_a_waiting_order_and_refuses_a_finished_one(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # One order at a time at a tenth of real time: the later orders wait in the queue long enough to cancel.
    slow = started(tmp_path_factory.mktemp("cancel"), "--time-scale", "0.1", "--concurrency", "1")
    try:
        async with httpx.AsyncClient(base_url=slow.url) as client:
            ids = [(await client.post("/api/orders", json=BODY)).json()["orderId"] for _ in range(3)]
            cancelled = await client.delete(f"/api/orders/{ids[-1]}")
            assert cancelled.status_code == 200, cancelled.text
            assert cancelled.json()["outcome"] == "cancelled"
            assert cancelled.json()["order"]["status"] == "CANCELLED"
            seen = await follow(f"{slow.ws_url}/ws/orders/{ids[-1]}")
            assert seen.statuses == ["CANCELLED"]
            assert seen.close_code == 1000
            finished = await follow(f"{slow.ws_url}/ws/orders/{ids[0]}")
            assert finished.statuses[-1] in TERMINAL
            late = await client.delete(f"/api/orders/{ids[0]}")
            assert late.status_code == 409
            assert late.json()["outcome"] == "too_late"
            assert late.json()["reason"]
            unknown = await client.delete("/api/orders/00000000-0000-4000-8000-000000000000")
            assert unknown.status_code == 404
    finally:
        status, err = slow.stop()
    assert status == 0, err


async def test_a_limit_order_over_http_waits_for_its_price_and_can_be_cancelled(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        body = {**BODY, "type": "limit", "limitPrice": "1.5", "expiresIn": 3600}
        created = await client.post("/api/orders", json=body)
        assert created.status_code == 201, created.text
        order_id = created.json()["orderId"]
        shown = (await client.get(f"/api/orders/{order_id}")).json()
        assert shown["status"] == "PENDING"
        assert shown["logs"][0]["data"]["terms"]["type"] == "limit"
        cancelled = await client.delete(f"/api/orders/{order_id}")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["order"]["status"] == "CANCELLED"
