"""Two-hop routes over `POST /api/orders/execute`: a real `dexdesk serve` on its own database and paper account.

SOL→RAY has no listed pair: it is stored as a SELL of the routable pair SOL-RAY and carried
SOL→USDC→RAY. What a trader checks: the order confirms, both hops are in its log and stored route,
the one `executionPrice` is the whole fill's RAY per SOL, and the account moved SOL and RAY by
exactly that while USDC, the intermediate, did not move at all.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest

from tests.api.client import follow
from tests.api.server import ServeProcess, started
from tests.faults.support import DEXDESK, dexdesk_env

pytestmark = pytest.mark.slow

START = {"SOL": Decimal(10), "USDC": Decimal(1000), "RAY": Decimal(500), "USDT": Decimal(0)}


@pytest.fixture(scope="module")
def account_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    home = tmp_path_factory.mktemp("twohop")
    database = f"sqlite+aiosqlite:///{home / 'api.db'}"
    balances = ",".join(f"{token}={amount}" for token, amount in START.items())
    reset = [DEXDESK, "account", "reset", "--balances", balances, "--db", database, "--seed", "11"]
    done = subprocess.run(reset, env=dexdesk_env(home), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    process = started(home, database=database)
    try:
        yield process
    finally:
        status, err = process.stop()
        assert status == 0, err
        assert "Traceback" not in err, err


def _balances(server: ServeProcess) -> dict[str, Decimal]:
    assert server.database is not None
    command = [DEXDESK, "account", "--json", "--db", server.database]
    done = subprocess.run(
        command, env=dexdesk_env(server.home), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout, parse_float=Decimal)
    return {row["token"]: Decimal(str(row["total"])) for row in view["balances"]}


async def _swap(client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    answer = await client.post("/api/orders/execute", json=body)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    seen = await follow(created["websocketUrl"])
    assert seen.statuses[-1] == "confirmed", seen.messages
    stored = (await client.get(f"/api/orders/{created['orderId']}")).json(parse_float=Decimal)
    return created, stored


def _entry(stored: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [entry for entry in stored["logs"] if entry["kind"] == kind]
    assert len(found) == 1, [entry["kind"] for entry in stored["logs"]]
    return found[0]


async def test_sol_to_ray_confirms_through_usdc_with_both_hops_and_the_account_settles_each_token(
    account_server: ServeProcess,
) -> None:
    before = _balances(account_server)
    async with httpx.AsyncClient(base_url=account_server.url) as client:
        created, stored = await _swap(client, {"tokenIn": "SOL", "tokenOut": "RAY", "amount": "2"})
    assert "routed through USDC" in created["message"]
    assert (stored["pair"], stored["direction"], stored["amount"], stored["status"]) == (
        "SOL-RAY",
        "SELL",
        2,
        "CONFIRMED",
    )
    chosen = _entry(stored, "route_chosen")
    assert chosen["data"]["twoHop"]["via"] == "USDC"
    assert "two hops via USDC" in chosen["message"]
    confirmed = _entry(stored, "confirmed")
    hops = confirmed["data"]["hops"]
    assert [(hop["pair"], hop["tokenIn"], hop["tokenOut"]) for hop in hops] == [
        ("SOL-USDC", "SOL", "USDC"),
        ("RAY-USDC", "USDC", "RAY"),
    ]
    first, second = hops
    assert Decimal(first["amountIn"]) == 2
    assert Decimal(first["amountOut"]) == Decimal(second["amountIn"])  # the intermediate nets to zero
    assert stored["dex"] == first["venue"]
    for hop in hops:
        assert {"venue", "amountIn", "amountOut", "price", "fee", "priceImpact"} <= set(hop)
        assert Decimal(hop["fee"]) > 0
        assert Decimal(hop["priceImpact"]) > 0
    price = Decimal(str(stored["executionPrice"]))
    assert price == (Decimal(second["amountOut"]) / 2).quantize(Decimal("0.00001"), ROUND_HALF_EVEN)
    after = _balances(account_server)
    assert after["SOL"] == before["SOL"] - 2
    assert after["RAY"] == before["RAY"] + 2 * price
    assert after["USDC"] == before["USDC"]


async def test_ray_to_sol_goes_back_through_usdc_and_loses_the_fees_of_the_round_trip(
    account_server: ServeProcess,
) -> None:
    async with httpx.AsyncClient(base_url=account_server.url) as client:
        _, out = await _swap(client, {"tokenIn": "SOL", "tokenOut": "RAY", "amount": "1"})
        received = Decimal(1) * Decimal(str(out["executionPrice"]))
        _, back = await _swap(
            client, {"tokenIn": "RAY", "tokenOut": "SOL", "amount": str(received.quantize(Decimal("0.01")))}
        )
    assert (back["pair"], back["direction"]) == ("RAY-SOL", "SELL")
    sol_back = Decimal(str(back["amount"])) * Decimal(str(back["executionPrice"]))
    assert sol_back < 1  # no free round trip through the two hops


async def test_a_listed_pair_is_still_traded_directly(account_server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=account_server.url) as client:
        _, stored = await _swap(client, {"tokenIn": "SOL", "tokenOut": "USDC", "amount": "1"})
    assert stored["pair"] == "SOL-USDC"
    assert "twoHop" not in _entry(stored, "route_chosen")["data"]
    assert "hops" not in _entry(stored, "confirmed")["data"]


@pytest.mark.parametrize(
    ("route", "body", "field", "words"),
    [
        ("/api/orders/execute", {"tokenIn": "SOL", "tokenOut": "DOGE", "amount": 1}, "tokenOut", "listed tokens"),
        ("/api/orders/execute", {"tokenIn": "SOL", "tokenOut": "RAY", "amount": 90000}, "amount", "at most"),
        ("/api/orders", {"pair": "USDC-SOL", "amount": 1, "direction": "BUY"}, "pair", "SOL-USDC"),
        (
            "/api/orders",
            {"pair": "SOL-RAY", "amount": 1, "direction": "BUY", "type": "limit", "limitPrice": 60},
            "type",
            "listed pair",
        ),
    ],
)
async def test_what_no_route_serves_is_a_400_naming_the_field(
    account_server: ServeProcess, route: str, body: dict[str, object], field: str, words: str
) -> None:
    async with httpx.AsyncClient(base_url=account_server.url) as client:
        answer = await client.post(route, json=body)
    assert answer.status_code == 400, answer.text
    errors = {item["field"]: item["message"] for item in answer.json()["errors"]}
    assert words in errors[field]


async def test_the_openapi_document_offers_the_routable_token_pairs(account_server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=account_server.url) as client:
        document = (await client.get("/openapi.json")).json()
    body = document["paths"]["/api/orders/execute"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    tokens = {
        (branch["properties"]["tokenIn"]["enum"][0].upper(), branch["properties"]["tokenOut"]["enum"][0].upper())
        for branch in body["anyOf"]
    }
    assert {("SOL", "RAY"), ("RAY", "SOL"), ("USDT", "BONK"), ("SOL", "USDC"), ("USDC", "SOL")} <= tokens
    assert ("SOL", "JUP") in tokens  # JUP-SOL is listed: SOL→JUP buys JUP with SOL, no second branch
