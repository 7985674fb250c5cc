"""`POST /api/orders/execute` and its WebSocket: the public task's shape on the same engine."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.api.client import follow
from tests.api.server import ServeProcess

pytestmark = pytest.mark.slow


async def test_selling_the_base_token_streams_lowercase_statuses(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/api/orders/execute", json={"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1.5})
        assert answer.status_code == 201, answer.text
        created = answer.json()
        assert set(created) == {"orderId", "status", "message", "websocketUrl"}
        assert created["status"] == "pending"
        assert "SELL 1.5 SOL on SOL-USDC" in created["message"]
        host = server.url.removeprefix("http://")
        assert created["websocketUrl"] == f"ws://{host}/api/orders/execute?orderId={created['orderId']}"
        seen = await follow(created["websocketUrl"])
        stored = (await client.get(f"/api/orders/{created['orderId']}")).json()
    assert seen.close_code == 1000
    assert all(status == status.lower() for status in seen.statuses)
    assert seen.statuses[-1] == stored["status"].lower()
    assert (stored["pair"], stored["direction"], stored["amount"]) == ("SOL-USDC", "SELL", 1.5)


async def test_paying_with_the_quote_token_buys_what_it_is_worth_now(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post(
            "/api/orders/execute", json={"tokenIn": "usdc", "tokenOut": "sol", "amountIn": "100", "orderType": "market"}
        )
        assert answer.status_code == 201, answer.text
        created = answer.json()
        stored = (await client.get(f"/api/orders/{created['orderId']}")).json()
    assert (stored["pair"], stored["direction"]) == ("SOL-USDC", "BUY")
    amount = Decimal(str(stored["amount"]))
    assert Decimal("0.3") < amount < Decimal("1.5")  # 100 USDC at roughly 100-300 USDC per SOL
    assert f"BUY {amount} SOL on SOL-USDC" in created["message"]
    assert "100 USDC given at the current indicative price" in created["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tokenOut": "USDC", "amount": 1}, "tokenIn"),
        ({"tokenIn": "SOL", "amount": 1}, "tokenOut"),
        ({"tokenIn": "SOL", "tokenOut": "DOGE", "amount": 1}, "tokenOut"),
        ({"tokenIn": "SOL", "tokenOut": "USDC"}, "amount"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amount": -2}, "amount"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amount": "abc"}, "amount"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1, "amountIn": 1}, "amountIn"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1, "orderType": "limit"}, "orderType"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1, "slippage": 0.9}, "slippage"),
        ({"tokenIn": "USDC", "tokenOut": "SOL", "amount": 100, "slippage": 0}, "slippage"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1, "slippage": "high"}, "slippage"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1, "side": "buy"}, "side"),
        ({"tokenIn": "USDC", "tokenOut": "SOL", "amount": "0.00001"}, "amount"),
    ],
)
async def test_bad_input_is_a_400_with_error_and_message(
    server: ServeProcess, body: dict[str, object], field: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/api/orders/execute", json=body)
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["error"] == "invalid order"
    assert problem["message"].startswith(f"{field}: ") or f"; {field}: " in problem["message"]
    assert field in [item["field"] for item in problem["errors"]]


async def test_the_orders_own_slippage_tolerance_is_kept(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        body = {"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1, "slippage": 0.005}
        answer = await client.post("/api/orders/execute", json=body)
        assert answer.status_code == 201
        stored = (await client.get(f"/api/orders/{answer.json()['orderId']}")).json()
    assert stored["logs"][0]["data"]["terms"]["slippage"] == 0.005


async def test_the_execute_websocket_closes_4404_for_an_unknown_order(server: ServeProcess) -> None:
    seen = await follow(f"{server.ws_url}/api/orders/execute?orderId=00000000-0000-4000-8000-000000000000")
    assert seen.close_code == 4404
    missing = await follow(f"{server.ws_url}/api/orders/execute")
    assert missing.close_code == 4404
