"""What a client of the API sees: HTTP answers and the text frames of a WebSocket until it closes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

CONTRACT_KEYS = {"orderId", "status", "timestamp", "dex", "executionPrice", "txHash", "error", "attempt", "retryInMs"}
TERMINAL = {"CONFIRMED", "FAILED", "CANCELLED"}


@dataclass
class Followed:
    texts: list[str] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    subprotocol: str | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(text, parse_float=Decimal) for text in self.texts]

    @property
    def statuses(self) -> list[str]:
        return [message["status"] for message in self.messages]


async def follow(url: str, headers: dict[str, str] | None = None, subprotocols: list[str] | None = None) -> Followed:
    """Every text frame until the server closes, and how it closed."""
    seen = Followed()
    offered = [Subprotocol(name) for name in subprotocols] if subprotocols else None
    async with connect(
        url, additional_headers=headers, subprotocols=offered, open_timeout=20, max_queue=None
    ) as websocket:
        seen.subprotocol = websocket.subprotocol
        try:
            async for frame in websocket:
                assert isinstance(frame, str)
                seen.texts.append(frame)
        except ConnectionClosed:
            pass
        seen.close_code = websocket.close_code
        seen.close_reason = websocket.close_reason or ""
    return seen
