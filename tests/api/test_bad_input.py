"""Bad input over HTTP: 400 naming every bad field with the desk's and the CLI's words; nothing stored."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.server import ServeProcess

pytestmark = pytest.mark.slow

GOOD = {"pair": "SOL-USDC", "amount": "10.5", "direction": "BUY"}


@pytest.fixture
async def client(server: ServeProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield http


async def _count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/orders", params={"limit": 1000})).json()["orders"])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"pair": None}, {"pair": "is required, e.g. SOL-USDC"}),
        ({"pair": "DOGE-USDC"}, {"pair": "must be one of the listed pairs"}),
        ({"pair": 7}, {"pair": "is required, e.g. SOL-USDC"}),
        ({"amount": None}, {"amount": "is required"}),
        ({"amount": -1}, {"amount": "must be greater than 0"}),
        ({"amount": 0}, {"amount": "must be greater than 0"}),
        ({"amount": "ten"}, {"amount": "must be a plain decimal number like 10.5"}),
        ({"amount": "NaN"}, {"amount": "must be a number, not NaN"}),
        ({"amount": "1e3"}, {"amount": "must be a plain decimal number like 10.5"}),
        ({"amount": True}, {"amount": "must be a decimal number, e.g. 10.5"}),
        ({"amount": "0.0000000001"}, {"amount": "at most"}),
        ({"amount": 1_000_000_000}, {"amount": "must be at most"}),
        ({"direction": None}, {"direction": "is required: BUY or SELL"}),
        ({"direction": "UP"}, {"direction": "must be BUY or SELL"}),
        ({"type": "stop"}, {"type": "must be market or limit"}),
        ({"type": "limit"}, {"limitPrice": "is required for a limit order"}),
        ({"limitPrice": 100}, {"limitPrice": "applies to limit orders only"}),
        ({"type": "limit", "limitPrice": 100, "expiresIn": -5}, {"expiresIn": "must be a number of seconds"}),
        ({"slippage": 2}, {"slippage": "must be a fraction above 0 and at most 0.5"}),
        ({"stopPrice": 100}, {"stopPrice": "is not a field of an order"}),
        (
            {"pair": "X", "amount": -1, "direction": "up"},
            {"pair": "must be one of", "amount": "must be greater than 0", "direction": "must be BUY or SELL"},
        ),
    ],
)
async def test_each_bad_field_is_named_with_its_rule(
    client: httpx.AsyncClient, changes: dict[str, object], expected: dict[str, str]
) -> None:
    before = await _count(client)
    body = {key: value for key, value in {**GOOD, **changes}.items() if value is not None}
    answer = await client.post("/api/orders", json=body)
    assert answer.status_code == 400
    problem = answer.json()
    assert set(problem) == {"error", "errors"}
    named = {item["field"]: item["message"] for item in problem["errors"]}
    assert set(named) == set(expected)
    for field, words in expected.items():
        assert words in named[field]
        assert f"{field}: {named[field]}" in problem["error"]
    assert await _count(client) == before


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "body: is required: a JSON object"),
        (b"{bad", "body: is not valid JSON"),
        (b"[1, 2]", "body: must be a JSON object"),
        (b'"SOL-USDC"', "body: must be a JSON object"),
        (b'{"pair": "SOL-USDC", "amount": NaN, "direction": "BUY"}', "body: is not valid JSON"),
        (b"\xff\xfe", "body: must be JSON in UTF-8"),
        # UTF-16 and a BOM are refused, though json.loads would read both.
        ('{"pair": "SOL-USDC", "amount": "1", "direction": "BUY"}'.encode("utf-16"), "body: must be JSON in UTF-8"),
        ('{"pair": "SOL-USDC", "amount": "1", "direction": "BUY"}'.encode("utf-16-le"), "body: is not valid JSON"),
        (
            b'\xef\xbb\xbf{"pair": "SOL-USDC", "amount": "1", "direction": "BUY"}',
            "body: must be JSON in UTF-8 without a byte-order mark",
        ),
    ],
)
async def test_an_unreadable_body_is_a_400(client: httpx.AsyncClient, content: bytes, words: str) -> None:
    answer = await client.post("/api/orders", content=content, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(words)


async def test_a_body_over_64_kib_is_refused_with_413(client: httpx.AsyncClient) -> None:
    before = await _count(client)
    padded = {**GOOD, "note": "x" * 70_000}
    announced = await client.post("/api/orders", json=padded)
    assert announced.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is counted as it streams
        for _ in range(10):
            yield b" " * 8000

    streamed = await client.post("/api/orders", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json() == {"error": "the request body is larger than 64 KiB"}
    assert announced.json() == streamed.json()  # one wording (engine.api.problems.body_too_large)
    assert await _count(client) == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "DONE"}, "status"),
        ({"pair": "NOPE"}, "pair"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"before": 0}, "before"),
    ],
)
async def test_bad_list_filters_are_a_400(client: httpx.AsyncClient, params: dict[str, object], field: str) -> None:
    answer = await client.get("/api/orders", params=params)
    assert answer.status_code == 400
    assert [item["field"] for item in answer.json()["errors"]] == [field]


async def test_unknown_order_is_a_404(client: httpx.AsyncClient) -> None:
    for order_id in ("00000000-0000-4000-8000-000000000000", "x%00y"):
        answer = await client.get(f"/api/orders/{order_id}")
        assert answer.status_code == 404
        assert answer.json()["error"].startswith("no order has the id")


async def test_list_pages_newest_first(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await client.post("/api/orders", json=GOOD)).status_code == 201
    first = (await client.get("/api/orders", params={"limit": 2})).json()
    assert len(first["orders"]) == 2
    second = (await client.get("/api/orders", params={"limit": 2, "before": first["nextBefore"]})).json()
    assert first["orders"][0]["createdAt"] >= first["orders"][1]["createdAt"] >= second["orders"][0]["createdAt"]
    assert {order["id"] for order in first["orders"]}.isdisjoint(order["id"] for order in second["orders"])
    assert "logs" not in first["orders"][0]
    filtered = (await client.get("/api/orders", params={"pair": "sol-usdc", "status": "confirmed"})).json()
    assert all(order["pair"] == "SOL-USDC" and order["status"] == "CONFIRMED" for order in filtered["orders"])


async def test_a_limit_order_keeps_its_terms(client: httpx.AsyncClient) -> None:
    body = {**GOOD, "type": "LIMIT", "limitPrice": "1.5", "expiresIn": 60}
    answer = await client.post("/api/orders", json=body)
    assert answer.status_code == 201, answer.text
    stored = (await client.get(f"/api/orders/{answer.json()['orderId']}")).json()
    terms = stored["logs"][0]["data"]["terms"]
    assert terms["type"] == "limit"
    assert terms["priceBound"] == 1.5
    assert "expiresAt" in terms


async def test_what_the_document_allows_is_accepted_and_what_it_forbids_refused(client: httpx.AsyncClient) -> None:
    """The cases schemathesis found on 392a9b1, each now one way in both the document and the rules."""
    document = (await client.get("/openapi.json")).json()
    body = document["paths"]["/api/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert all(branch["additionalProperties"] is False for branch in body["anyOf"])
    limit = {**GOOD, "type": "limit", "limitPrice": "100"}
    tiny_expiry = await client.post(
        "/api/orders",
        content=b'{"pair": "SOL-USDC", "amount": 1, "direction": "BUY", "type": "limit", '
        b'"limitPrice": 1, "expiresIn": 5e-324}',
        headers={"content-type": "application/json"},
    )
    assert tiny_expiry.status_code == 201, tiny_expiry.text  # a JSON number in exponent form is a number
    exponent = await client.post(
        "/api/orders",
        content=b'{"pair": "SOL-USDC", "amount": 1e-2, "direction": "BUY"}',
        headers={"content-type": "application/json"},
    )
    assert exponent.status_code == 201, exponent.text
    for changes, field in (
        ({"limitPrice": "0"}, "limitPrice"),
        ({"type": ""}, "type"),
        ({"slippage": ""}, "slippage"),
        ({"expiresIn": ""}, "expiresIn"),
    ):
        refused = await client.post("/api/orders", json={**limit, **changes})
        assert refused.status_code == 400, changes
        assert field in {item["field"] for item in refused.json()["errors"]}


async def test_a_buy_the_document_allows_below_a_pools_depth_is_accepted_and_the_depth_refused_by_both(
    client: httpx.AsyncClient,
) -> None:
    """schemathesis: a BUY of exactly 5,000,000 JUP on JUP-SOL matched the document, yet the rules refused it.

    The shallower pool (Meteora's) holds 5,000,000 JUP, and a pool cannot give away its whole
    reserve; the pair's own maximum is higher, so the document now holds a BUY below the depth.
    """
    document = (await client.get("/openapi.json")).json()
    body = document["paths"]["/api/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    buys = [
        branch["properties"]["amount"]
        for branch in body["anyOf"]
        if "JUP-SOL" in branch["properties"]["pair"]["enum"] and branch["properties"]["direction"]["enum"][0] == "BUY"
    ]
    assert buys
    for amount in buys:
        number, text = amount["anyOf"]
        assert number["exclusiveMaximum"] == 5_000_000
        assert re.fullmatch(text["pattern"], "4999999.99")
        assert not re.fullmatch(text["pattern"], "5000000")
        assert not re.fullmatch(text["pattern"], "+00005000000.000000000")
    jup = {"pair": "JUP-SOL", "direction": "BUY"}
    below = await client.post(
        "/api/orders", json={**jup, "amount": "4999999.99", "type": "limit", "limitPrice": "0.0000012"}
    )
    assert below.status_code == 201, below.text
    depth = await client.post("/api/orders", json={**jup, "amount": "5000000"})
    assert depth.status_code == 400
    assert "depth" in depth.text
    sell = await client.post("/api/orders", json={"pair": "JUP-SOL", "direction": "SELL", "amount": "5000000"})
    assert sell.status_code == 201, "a SELL adds to the pool: its bound stays the pair's maximum"
