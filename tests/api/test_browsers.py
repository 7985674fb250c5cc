"""What a web page may not do to a default `dexdesk serve`, tried with raw sockets as a browser or an attacker sends it.

A "simple" cross-origin POST (a form, `text/plain`) needs no preflight, a rebound page carries its
own name in `Host`, and a slow client trickles bytes: each is refused, and nothing is stored.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.api.server import ServeProcess, started

pytestmark = pytest.mark.slow
APP = "https://app.example"
EVIL = "http://evil.example"
ORDER = b'{"pair": "SOL-USDC", "amount": "1", "direction": "BUY"}'
TIMEOUT = "0.5"  # seconds: the server's --request-timeout in this module
READ_LIMIT_S = 20.0  # how long a test waits for the server's answer before calling it hung


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = started(
        tmp_path_factory.mktemp("browsers"),
        "--cors",
        APP,
        "--allow-host",
        "desk.lan",
        "--request-timeout",
        TIMEOUT,
    )
    try:
        yield process
    finally:
        status, err = process.stop()
        assert status == 0, err
        assert "Traceback" not in err, err


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool

    def json(self) -> dict[str, object]:
        answer = json.loads(self.body)
        assert isinstance(answer, dict)
        return answer


def exchange(server: ServeProcess, raw: bytes, *, wait_for_close: bool = False) -> Answer:
    """Send `raw` bytes as they are; read one answer (and, if asked, until the server closes)."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=READ_LIMIT_S) as sock:
        sock.sendall(raw)
        received = b""
        closed = False
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            if not wait_for_close and _complete(head, body):
                break
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return Answer(int(lines[0].split()[1]), headers, body, closed)


def _complete(head: bytes, body: bytes) -> bool:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            return len(body) >= int(value)
    return False


def request(
    server: ServeProcess,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    host: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or urlsplit(server.url).netloc}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    return exchange(server, raw)


def stored(server: ServeProcess) -> int:
    answer = request(server, "GET", "/api/orders?limit=1000")
    assert answer.status == 200
    orders = answer.json()["orders"]
    assert isinstance(orders, list)
    return len(orders)


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/orders", "text/plain", ORDER),
        ("/api/orders", "application/x-www-form-urlencoded", b"pair=SOL-USDC&amount=1&direction=BUY"),
        ("/api/orders", "multipart/form-data; boundary=x", b"--x--"),
        ("/api/orders/execute", "text/plain", b'{"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1}'),
        ("/api/orders/execute", "application/x-www-form-urlencoded", b"tokenIn=SOL&tokenOut=USDC&amount=1"),
    ],
)
def test_a_foreign_pages_simple_post_is_refused_and_nothing_stored(
    guarded: ServeProcess, path: str, content_type: str, body: bytes
) -> None:
    before = stored(guarded)
    from_page = request(guarded, "POST", path, body=body, headers={"Origin": EVIL, "Content-Type": content_type})
    assert from_page.status == 403
    assert "Origin: http://evil.example may not call this API" in str(from_page.json()["error"])
    # Without an Origin (a script), a body that is not JSON is still refused for its type.
    not_json = request(guarded, "POST", path, body=body, headers={"Content-Type": content_type})
    assert not_json.status == 415
    assert not_json.json()["error"] == "Content-Type: must be application/json (UTF-8)"
    assert stored(guarded) == before


def test_json_in_another_charset_or_without_a_type_is_refused(guarded: ServeProcess) -> None:
    before = stored(guarded)
    for headers in ({"Content-Type": "application/json; charset=utf-16"}, {}):
        answer = request(guarded, "POST", "/api/orders", body=ORDER, headers=headers)
        assert answer.status == 415
    assert stored(guarded) == before


def test_clients_without_an_origin_and_the_servers_own_and_cors_origins_are_served(guarded: ServeProcess) -> None:
    before = stored(guarded)
    json_type = {"Content-Type": "application/json"}
    curl_like = request(guarded, "POST", "/api/orders", body=ORDER, headers=json_type)
    assert curl_like.status == 201
    own = request(guarded, "POST", "/api/orders", body=ORDER, headers={**json_type, "Origin": guarded.url})
    assert own.status == 201
    listed = request(guarded, "POST", "/api/orders", body=ORDER, headers={**json_type, "Origin": APP})
    assert listed.status == 201
    assert listed.headers["access-control-allow-origin"] == APP
    charset = request(
        guarded, "POST", "/api/orders", body=ORDER, headers={"Content-Type": "application/json; charset=UTF-8"}
    )
    assert charset.status == 201
    assert stored(guarded) == before + 4


@pytest.mark.parametrize("path", ["/api/orders", "/health", "/openapi.json", "/docs"])
def test_a_foreign_origin_cannot_read(guarded: ServeProcess, path: str) -> None:
    for origin in (EVIL, "null", f"{guarded.url}.evil.example"):
        answer = request(guarded, "GET", path, headers={"Origin": origin})
        assert answer.status == 403, origin
        assert "may not call this API" in str(answer.json()["error"])


def test_a_foreign_host_is_refused_and_an_allowed_one_served(guarded: ServeProcess) -> None:
    port = urlsplit(guarded.url).port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
        answer = request(guarded, "GET", "/api/orders", host=host)
        assert answer.status == 421, host
        assert str(answer.json()["error"]).startswith(f"Host: {host} is not a name of this server")
    before = stored(guarded)
    rebound = request(
        guarded, "POST", "/api/orders", body=ORDER, host="evil.example", headers={"Content-Type": "application/json"}
    )
    assert rebound.status == 421
    assert stored(guarded) == before
    for host in (f"localhost:{port}", f"desk.lan:{port}", f"127.0.0.1:{port}", "LOCALHOST"):
        assert request(guarded, "GET", "/api/orders", host=host).status == 200, host
    missing = exchange(guarded, b"GET /api/orders HTTP/1.0\r\n\r\n")
    assert missing.status == 400
    twice = exchange(guarded, b"GET /api/orders HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n")
    assert twice.status == 400


async def test_a_websocket_from_a_foreign_page_or_host_is_refused(guarded: ServeProcess) -> None:
    for origin in (EVIL, "null"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{guarded.ws_url}/ws/orders", additional_headers={"Origin": origin}, open_timeout=20):
                pass
        assert refused.value.response.status_code == 403
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    rebound = request(guarded, "GET", "/ws/orders", host="evil.example", headers=upgrade)
    assert rebound.status == 421
    for origin in (APP, guarded.url):
        async with connect(f"{guarded.ws_url}/ws/orders", origin=origin, open_timeout=20) as websocket:  # type: ignore[arg-type]
            assert websocket.response is not None
            assert websocket.response.status_code == 101
    async with connect(f"{guarded.ws_url}/ws/orders", open_timeout=20) as websocket:
        assert websocket.response is not None
        assert websocket.response.status_code == 101


def test_slow_headers_are_timed_out_and_the_connection_closed(guarded: ServeProcess) -> None:
    trickled = exchange(guarded, b"GET /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n", wait_for_close=True)
    assert trickled.status == 408
    assert trickled.closed
    assert trickled.json()["error"] == f"the request did not arrive within {TIMEOUT} s"
    silent = exchange(guarded, b"", wait_for_close=True)
    assert silent.status == 408
    assert silent.closed


def test_a_slow_body_is_timed_out_and_nothing_stored(guarded: ServeProcess) -> None:
    before = stored(guarded)
    netloc = urlsplit(guarded.url).netloc
    head = (
        f"POST /api/orders HTTP/1.1\r\nHost: {netloc}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    for path in ("/api/orders", "/api/orders/execute"):
        slow = exchange(guarded, head.replace("/api/orders", path, 1).encode() + b"{", wait_for_close=True)
        assert slow.status == 408, path
        assert slow.headers["connection"] == "close"
        assert slow.closed
    assert stored(guarded) == before
