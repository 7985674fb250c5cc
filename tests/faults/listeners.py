"""Real Redis subscribers for tests: one per order channel, and one on `order-updates:*`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from engine.listeners.mirror_keys import CHANNEL_PATTERN, CHANNEL_PREFIX, MirrorKeys
from tests.services import REDIS_URL

TERMINAL = ("CONFIRMED", "FAILED")


def is_terminal(line: str) -> bool:
    return json.loads(line)["status"] in TERMINAL


class Recorder:
    """Records every line each subscription receives, per order id, in arrival order."""

    def __init__(self, url: str) -> None:
        self.client = Redis.from_url(url, decode_responses=True)
        self.per_order: dict[str, list[str]] = defaultdict(list)
        self.everything: dict[str, list[str]] = defaultdict(list)
        self._pubsubs: list[PubSub] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def _subscribed(self, pubsub: PubSub, kind: str) -> None:
        while (message := await pubsub.get_message(timeout=5.0)) is None or message["type"] != kind:
            assert message is not None, f"no {kind} confirmation"

    async def follow(self, order_id: str) -> None:
        """SUBSCRIBE order-updates:{order_id}; record until the order's terminal message."""
        pubsub = self.client.pubsub()
        await pubsub.subscribe(MirrorKeys.channel(order_id))
        await self._subscribed(pubsub, "subscribe")
        self._pubsubs.append(pubsub)

        async def read() -> None:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message and message["type"] == "message":
                    self.per_order[order_id].append(message["data"])
                    if is_terminal(message["data"]):
                        return

        self._tasks.append(asyncio.create_task(read()))

    async def follow_all(self) -> None:
        """PSUBSCRIBE order-updates:*; record every message under its order id."""
        pubsub = self.client.pubsub()
        await pubsub.psubscribe(CHANNEL_PATTERN)
        await self._subscribed(pubsub, "psubscribe")
        self._pubsubs.append(pubsub)

        async def read() -> None:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message and message["type"] == "pmessage":
                    self.everything[message["channel"].removeprefix(CHANNEL_PREFIX)].append(message["data"])

        self._tasks.append(asyncio.create_task(read()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for pubsub in self._pubsubs:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        await self.client.aclose()


@contextlib.asynccontextmanager
async def namespace(url: str = REDIS_URL) -> AsyncIterator[str]:
    """A key namespace of one test's own on the shared Redis, deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        client = Redis.from_url(url)
        try:
            keys = [key async for key in client.scan_iter(match=f"{name}:*", count=500)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()
