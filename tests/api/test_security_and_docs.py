"""Who may call the API, and the docs page that works with no network."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from engine.api import is_loopback
from tests.api.client import follow
from tests.api.server import ServeProcess, started
from tests.faults.support import DEXDESK, dexdesk_env

pytestmark = pytest.mark.slow
TOKEN = "s3cret-token-for-tests"


def test_loopback_is_this_machine_only() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.0.0.2")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("::")
    assert not is_loopback("192.168.1.10")


def test_listening_beyond_loopback_without_a_token_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [DEXDESK, "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dexdesk_env(tmp_path),
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dexdesk: --host 0.0.0.0 is reachable from other machines")


async def test_every_request_and_websocket_needs_the_token_off_loopback(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # 0.0.0.0 listens on every interface; 127.0.0.1 reaches it.
    guarded = started(tmp_path_factory.mktemp("guarded"), "--host", "0.0.0.0", DEXDESK_API_TOKEN=TOKEN)
    try:
        base = guarded.url.replace("0.0.0.0", "127.0.0.1")
        ws_base = "ws" + base.removeprefix("http")
        good = {"Authorization": f"Bearer {TOKEN}"}
        body = {"pair": "SOL-USDC", "amount": "1", "direction": "BUY"}
        async with httpx.AsyncClient(base_url=base) as client:
            for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
                for answer in (
                    await client.post("/api/orders", json=body, headers=headers),
                    await client.get("/api/orders", headers=headers),
                    await client.get("/health", headers=headers),
                ):
                    assert answer.status_code == 401
                    assert answer.headers["www-authenticate"].startswith("Bearer")
                    assert answer.json()["error"].startswith("missing or wrong bearer token")
            assert (await client.get("/api/orders", headers=good)).json()["orders"] == []  # nothing was stored
            created = await client.post("/api/orders", json=body, headers=good)
            assert created.status_code == 201
            assert (await client.get("/docs")).status_code == 200  # the page itself carries no orders
            scheme = (await client.get("/openapi.json")).json()["components"]["securitySchemes"]["bearer"]
            assert "`bearer.<token>`" in scheme["description"]
        order_id = created.json()["orderId"]
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{ws_base}/ws/orders/{order_id}"):
                pass
        assert refused.value.response.status_code == 401
        seen = await follow(f"{ws_base}/ws/orders/{order_id}", headers=good)
        assert seen.close_code == 1000
        assert seen.texts
        # A browser cannot set headers on a WebSocket: it offers the token as the subprotocol
        # `bearer.<token>`, which the server accepts and names in its answer, as browsers require.
        for path in (f"/ws/orders/{order_id}", f"/api/orders/execute?orderId={order_id}"):
            offered = await follow(f"{ws_base}{path}", subprotocols=["dexdesk", f"bearer.{TOKEN}"])
            assert offered.subprotocol == f"bearer.{TOKEN}"
            assert offered.close_code == 1000
            assert offered.statuses[-1].upper() == seen.statuses[-1]
        for wrong in (["bearer.wrong-token"], [TOKEN], ["dexdesk"], [f"Bearer.{TOKEN}"]):
            with pytest.raises(InvalidStatus) as refused:
                await follow(f"{ws_base}/ws/orders/{order_id}", subprotocols=wrong)
            assert refused.value.response.status_code == 401
    finally:
        status, err = guarded.stop()
    assert status == 0, err


async def test_cors_is_off_unless_asked(server: ServeProcess, tmp_path_factory: pytest.TempPathFactory) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get("/api/orders", headers={"Origin": "https://app.example"})
        assert answer.status_code == 403
        assert "access-control-allow-origin" not in answer.headers
    allowed = started(tmp_path_factory.mktemp("cors"), "--cors", "https://app.example")
    try:
        async with httpx.AsyncClient(base_url=allowed.url) as client:
            answer = await client.options("/api/orders", headers=preflight)
            assert answer.headers["access-control-allow-origin"] == "https://app.example"
            other = await client.get("/api/orders", headers={"Origin": "https://evil.example"})
            assert other.status_code == 403
            assert "access-control-allow-origin" not in other.headers
            # POST /api/orders is served ahead of FastAPI's routing (engine.api.lanes): CORS holds there too.
            body = {"pair": "SOL-USDC", "amount": "1", "direction": "BUY"}
            posted = await client.post("/api/orders", json=body, headers={"Origin": "https://app.example"})
            assert posted.status_code == 201
            assert posted.headers["access-control-allow-origin"] == "https://app.example"
    finally:
        allowed.stop()


async def test_docs_are_served_from_installed_files(server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources
        assert all(source.startswith("/docs/assets/") for source in sources), sources
        for source in sources:
            asset = await client.get(source)
            assert asset.status_code == 200
            assert len(asset.content) > 1000
        document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    assert {"/api/orders", "/api/orders/{order_id}", "/api/orders/execute", "/health"} <= set(document["paths"])
    for path in document["paths"].values():
        for operation in path.values():
            assert "422" not in operation["responses"]
    assert set(document["paths"]["/api/orders"]["post"]["responses"]) == {"201", "400", "401", "409", "413", "503"}
