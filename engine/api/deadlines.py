"""Requests must arrive within a bounded time: a client that trickles its headers or body is answered 408 and cut off.

Without this, a connection that declares `Content-Length: 100` and sends one byte (or opens and
sends nothing) holds its socket and its request task forever; enough of them exhaust the server.
uvicorn bounds neither, so:

- the headers: `deadline_protocol` is uvicorn's httptools protocol with a timer from the
  connection's start (or the first byte of each next request) to the end of the headers;
- the body: `BodyDeadline` reads the whole body (at most the body limit) before any route runs,
  within the same time counted from the end of the headers, and hands the route what it read.
"""

from __future__ import annotations

import asyncio
from asyncio import TimerHandle
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from engine.api.problems import body_too_large, send_json
from engine.model.jsonfmt import dumps

CLOSE = (b"connection", b"close")


def timeout_message(seconds: float) -> str:
    return f"the request did not arrive within {seconds:g} s"


def _response_408(seconds: float) -> bytes:
    body = dumps({"error": timeout_message(seconds)}).encode()
    head = (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


def deadline_protocol(seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol whose request headers must be complete within `seconds`."""

    class HeaderDeadline(HttpToolsProtocol):
        header_timer: TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            self._arm()
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def _arm(self) -> None:
            self._disarm()
            self.header_timer = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def _expired(self) -> None:
            self.header_timer = None
            if self.transport.is_closing():
                return
            if self.cycle is None or self.cycle.response_complete:  # no answer of an earlier request under way
                self.transport.write(_response_408(seconds))
            self.transport.close()

    return HeaderDeadline


class SlowBody(Exception):
    """The body did not arrive in time."""


class BodyDeadline:
    """The whole body within `seconds` of the headers (408 and close otherwise), then the route runs."""

    def __init__(self, app: ASGIApp, seconds: float, max_bytes: int) -> None:
        self.app = app
        self.seconds = seconds
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope, self.max_bytes):
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.seconds):
                messages = await self._read(receive)
        except TimeoutError:
            await send_json(send, 408, {"error": timeout_message(self.seconds)}, [CLOSE])
            return
        if messages is None:
            # No `connection: close`: uvicorn reads and drops the rest, so the client still hears the 413.
            await send_json(send, 413, body_too_large(self.max_bytes))
            return
        await self.app(scope, _replay(messages, receive), send)

    async def _read(self, receive: Receive) -> list[Message] | None:
        """Every message up to the body's end (or a disconnect); None past the size limit."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return messages


def _has_body(scope: Scope, max_bytes: int) -> bool:
    """A body to wait for; one announced over the limit is refused at once by `BodyLimit` instead."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return bytes(value).isdigit() and 0 < int(value) <= max_bytes
        if name == b"transfer-encoding":
            return True
    return False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()  # after the body: the disconnect, when the client goes away

    return replay
