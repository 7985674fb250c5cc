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
        assert other.json()["error"].startswith("Idempotency-Key was already used for a different request")
        bad = await client.post("/api/orders", json=BODY, headers={"Idempotency-Key": "k" * 201})
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["field"] == "Idempotency-Key"
        execute = {"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1}
        first = await client.post("/api/orders/execute", json=execute, headers={"Idempotency-Key": "x-1"})
        again = await client.post("/api/orders/execute", json=execute, headers={"Idempotency-Key": "x-1"})
        assert first.json()["orderId"] == again.json()["orderId"]


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "limit", "limitPrice": "1"},
        {"slippage": "0.2"},
        {"userId": "user123"},
        {"direction": "SELL"},
    ],
)
async def test_a_key_names_the_whole_request(server: ServeProcess, changes: dict[str, str]) -> None:
    """The same key with any field that changes the order is 409, never the first order's 201."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        headers = {"Idempotency-Key": f"whole-{sorted(changes)}"}
        first = await client.post("/api/orders", json=BODY, headers=headers)
        assert first.status_code == 201
        before = len((await client.get("/api/orders", params={"limit": 1000})).json()["orders"])
        other = await client.post("/api/orders", json={**BODY, **changes}, headers=headers)
        assert other.status_code == 409, other.text
        assert first.json()["orderId"] in other.json()["error"]
        assert len((await client.get("/api/orders", params={"limit": 1000})).json()["orders"]) == before
        # Written differently, the same request is the same order.
        same = {**BODY, "pair": "sol-usdc", "amount": "2.000", "direction": "buy"}
        again = await client.post("/api/orders", json=same, headers=headers)
        assert (again.status_code, again.json()["orderId"]) == (201, first.json()["orderId"])


async def test_a_limit_order_key_with_another_expiry_is_refused(server: ServeProcess) -> None:
    limit = {**BODY, "type": "limit", "limitPrice": "1", "expiresIn": 600}
    async with httpx.AsyncClient(base_url=server.url) as client:
        headers = {"Idempotency-Key": "limit-expiry"}
        assert (await client.post("/api/orders", json=limit, headers=headers)).status_code == 201
        other = await client.post("/api/orders", json={**limit, "expiresIn": 60}, headers=headers)
        assert other.status_code == 409
        again = await client.post("/api/orders", json=limit, headers=headers)
        assert again.status_code == 201


async def test_in_one_batch_the_first_request_with_a_key_wins(server: ServeProcess) -> None:
    """Sent together (one admission batch), the first request's order is stored; the different one is 409."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        headers = {"Idempotency-Key": "batch-race"}
        market, limit = BODY, {**BODY, "type": "limit", "limitPrice": "1"}
        answers = await asyncio.gather(
            *(client.post("/api/orders", json=body, headers=headers) for body in (market, limit, market, limit))
        )
        codes = [answer.status_code for answer in answers]
        assert sorted(codes) == [201, 201, 409, 409], codes
        winner = answers[codes.index(201)]
        stored = (await client.get(f"/api/orders/{winner.json()['orderId']}")).json()
        won_as_limit = stored["logs"][0]["data"]["terms"]["type"] == "limit"
        # Whichever request the server read first, every answer agrees with the stored order.
        for body, answer in zip((market, limit, market, limit), answers, strict=True):
            assert (answer.status_code == 201) == (("type" in body) == won_as_limit)


async def test_a_usdc_paid_execute_retried_after_the_price_moved_answers_the_same_order(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """At real time the price moves while the order runs (seconds); the retry after it ended is the same order."""
    live = started(tmp_path_factory.mktemp("retry"), "--time-scale", "1")
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
            body = {"tokenIn": "USDC", "tokenOut": "SOL", "amount": "100", "userId": "retrying-client"}
            headers = {"Idempotency-Key": "usdc-paid-retry"}
            first = await client.post("/api/orders/execute", json=body, headers=headers)
            assert first.status_code == 201, first.text
            order_id = first.json()["orderId"]
            seen = await follow(f"{live.ws_url}/api/orders/execute?orderId={order_id}")
            assert seen.statuses[-1] in {"confirmed", "failed"}
            retry = await client.post("/api/orders/execute", json=body, headers=headers)
            assert (retry.status_code, retry.json()["orderId"]) == (201, order_id)
            other = await client.post("/api/orders/execute", json={**body, "amount": "101"}, headers=headers)
            assert other.status_code == 409
            assert len((await client.get("/api/orders")).json()["orders"]) == 1
    finally:
        status, err = live.stop()
    assert status == 0, err


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
