"""The desk serving the API on its own engine: an order posted over HTTP shows on the board live."""

from __future__ import annotations

import httpx

from engine.model.domain import OrderStatus
from tests.api.client import follow
from tests.faults.support import free_port
from tests.ui.conftest import Desk
from ui.board.columns import Column


def test_an_order_posted_over_http_appears_on_the_board_live(desk: Desk) -> None:
    port = free_port()
    desk.run(desk.window.api.apply(port))
    assert desk.window.api_label.text() == f"API: http://127.0.0.1:{port}"

    async def post_and_follow() -> tuple[str, list[str]]:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            answer = await client.post("/api/orders", json={"pair": "SOL-USDC", "amount": "3", "direction": "SELL"})
            assert answer.status_code == 201
            order_id = str(answer.json()["orderId"])
        seen = await follow(f"ws://127.0.0.1:{port}/ws/orders/{order_id}")
        return order_id, seen.statuses

    order_id, statuses = desk.run(post_and_follow())
    model = desk.window.board.model
    desk.qtbot.waitUntil(lambda: model.get(order_id) is not None, timeout=10_000)
    shown = model.get(order_id)
    assert shown is not None
    desk.qtbot.waitUntil(lambda: model.get(order_id).status is OrderStatus.CONFIRMED, timeout=10_000)  # type: ignore[union-attr]
    assert statuses[-1] == "CONFIRMED"

    desk.run(desk.window.api.apply(None))
    assert not desk.window.api_label.isVisible()


def test_settings_turn_the_api_on_and_off(desk: Desk) -> None:
    port = free_port()
    dialog = desk.window.settings_flow.open()
    assert not dialog.serve_api.isChecked()
    assert not dialog.api_port.isEnabled()
    dialog.serve_api.setChecked(True)
    dialog.api_port.setValue(port)
    dialog.accept()
    assert desk.window.settings.serve_api_port == port
    desk.qtbot.waitUntil(lambda: desk.window.api.url == f"http://127.0.0.1:{port}", timeout=10_000)

    async def health() -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"http://127.0.0.1:{port}/health")).status_code

    assert desk.run(health()) == 200
    again = desk.window.settings_flow.open()
    assert again.serve_api.isChecked()
    assert again.api_port.value() == port
    again.serve_api.setChecked(False)
    again.accept()
    desk.qtbot.waitUntil(lambda: desk.window.api.url is None, timeout=10_000)
    assert desk.window.settings.serve_api_port is None


def test_the_desks_api_refuses_foreign_pages_and_shows_a_clients_label(desk: Desk) -> None:
    port = free_port()
    desk.run(desk.window.api.apply(port))
    body = {"pair": "SOL-USDC", "amount": "2", "direction": "BUY", "userId": "user123"}

    async def post() -> tuple[int, int, int, str]:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            foreign = await client.post("/api/orders", json=body, headers={"Origin": "http://evil.example"})
            rebound = await client.post("/api/orders", json=body, headers={"Host": "evil.example"})
            plain = await client.post("/api/orders", content=b"{}", headers={"Content-Type": "text/plain"})
            answer = await client.post("/api/orders", json=body)
            assert answer.status_code == 201
            return foreign.status_code, rebound.status_code, plain.status_code, str(answer.json()["orderId"])

    foreign, rebound, plain, order_id = desk.run(post())
    assert (foreign, rebound, plain) == (403, 421, 415)
    model = desk.window.board.model
    desk.qtbot.waitUntil(lambda: model.get(order_id) is not None, timeout=10_000)
    row = model.row_of(order_id)
    assert row is not None
    assert model.index(row, Column.USER.index).data() == "user123"
    assert model.rowCount() == 1  # nothing the refused requests sent was stored
    desk.run(desk.window.api.apply(None))
