"""Clients written for the public task, as they are: `userId`, `type`, `amountIn`, `slippage`, `GET /`, metrics."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from tests.api.client import follow
from tests.api.server import ServeProcess
from tests.faults.support import DEXDESK, dexdesk_env

pytestmark = pytest.mark.slow
POSTMAN_BODY = {
    "type": "market",
    "tokenIn": "SOL",
    "tokenOut": "USDC",
    "amountIn": 1.5,
    "slippage": 0.01,
    "userId": "user123",
}


async def test_a_public_task_client_places_follows_lists_and_cancels(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        created = await client.post("/api/orders/execute", json=POSTMAN_BODY)
        assert created.status_code == 201, created.text
        order_id = created.json()["orderId"]
        seen = await follow(created.json()["websocketUrl"])
        assert seen.statuses[-1] == "confirmed"
        order = (await client.get(f"/api/orders/{order_id}")).json()
        assert (order["userId"], order["direction"], order["amount"]) == ("user123", "SELL", 1.5)
        # A waiting limit order of the same user, to cancel.
        limit = {"pair": "SOL-USDC", "amount": "1", "direction": "BUY", "type": "limit", "limitPrice": "1"}
        waiting = await client.post("/api/orders", json={**limit, "userId": "user123"})
        assert waiting.status_code == 201
        other = await client.post("/api/orders", json={**limit, "userId": "someone-else"})
        assert other.status_code == 201
        mine = (await client.get("/api/orders", params={"userId": "user123"})).json()["orders"]
        assert {item["id"] for item in mine} == {order_id, waiting.json()["orderId"]}
        assert {item["userId"] for item in mine} == {"user123"}
        cancelled = await client.delete(f"/api/orders/{waiting.json()['orderId']}")
        assert cancelled.json()["outcome"] == "cancelled"
        assert cancelled.json()["order"]["userId"] == "user123"
        await client.delete(f"/api/orders/{other.json()['orderId']}")
        unlabelled = (await client.get("/api/orders", params={"userId": "nobody"})).json()["orders"]
        assert unlabelled == []


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"userId": "u" * 65}, "userId", "must be 1-64 printable ASCII characters"),
        ({"userId": ""}, "userId", "must be 1-64 printable ASCII characters"),
        ({"userId": 7}, "userId", "must be 1-64 printable ASCII characters"),
        ({"tokenOut": "SOL"}, "tokenOut", "must differ from tokenIn"),
        ({"amount": 1}, "amountIn", "give either amount or amountIn, not both"),
        ({"orderType": "market"}, "type", "give either type or orderType, not both"),
    ],
)
async def test_what_a_public_client_gets_wrong_is_named(
    server: ServeProcess, changes: dict[str, object], field: str, rule: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        before = len((await client.get("/api/orders", params={"limit": 1000})).json()["orders"])
        refused = await client.post("/api/orders/execute", json={**POSTMAN_BODY, **changes})
        assert refused.status_code == 400
        assert {"field": field, "message": rule} in refused.json()["errors"]
        assert len((await client.get("/api/orders", params={"limit": 1000})).json()["orders"]) == before


async def test_the_index_links_to_docs_schema_health_and_metrics(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        index = (await client.get("/")).json()
        assert index["name"] == "dexdesk"
        for name in ("docs", "openapi", "health", "metrics"):
            assert (await client.get(index["links"][name])).status_code == 200


async def test_metrics_parse_with_prometheus_clients_own_parser(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        created = await client.post("/api/orders", json={"pair": "SOL-USDC", "amount": "1", "direction": "SELL"})
        order_id = created.json()["orderId"]
        seen = await follow(f"{server.ws_url}/ws/orders/{order_id}")
        assert seen.statuses[-1] == "CONFIRMED"
        async with connect(f"{server.ws_url}/ws/orders", open_timeout=20):
            scraped = await client.get("/metrics")
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
        families = {family.name: family for family in text_string_to_metric_families(scraped.text)}
        by_status = {sample.labels["status"]: sample.value for sample in families["dexdesk_orders"].samples}
        assert by_status["CONFIRMED"] >= 1
        assert set(by_status) == {"PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED", "FAILED", "CANCELLED"}
        assert families["dexdesk_attempt_starts"].samples[0].value >= 1
        count = next(s for s in families["dexdesk_order_seconds"].samples if s.name.endswith("_count"))
        assert count.value >= 1
        assert "dexdesk_orders_in_flight" in families
        assert "dexdesk_orders_queued" in families
        assert families["dexdesk_websocket_connections"].samples[0].value >= 1  # the board feed open above


def test_the_label_is_a_report_column_after_the_figures(server: ServeProcess, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.url) as client:
        body = {"pair": "SOL-USDC", "amount": "1", "direction": "BUY", "userId": 'desk "A", team 2'}
        created = client.post("/api/orders", json=body).json()["orderId"]
    report = tmp_path / "report.csv"
    exported = subprocess.run(
        [DEXDESK, "export", str(report), "--db", f"sqlite+aiosqlite:///{server.home / 'api.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dexdesk_env(tmp_path),
    )
    assert exported.returncode == 0, exported.stderr
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
        assert list(rows[created])[-3:] == ["fee", "userId", "outcome"], "docs/csv.md's order"
    assert rows[created]["userId"] == 'desk "A", team 2'
    assert {row["userId"] for order_id, row in rows.items() if order_id != created} <= {"", "user123", "someone-else"}
