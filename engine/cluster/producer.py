"""What a producer hears in cluster mode: every update message the workers publish on Redis.

Producers (the CLI, the desk, the API) submit through `Engine.submit_many` like one process does
(validate, bind the terms, reserve, store, queue; engine/cluster/remote.py is their queue) and
never run orders here; this module is how they hear the workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from engine.listeners import redis_wire
from engine.listeners.mirror_keys import CHANNEL_PATTERN, CHANNEL_PREFIX, describe_error
from engine.model.domain import OrderStatus
from engine.model.jsonfmt import loads_exact

log = logging.getLogger(__name__)

TERMINAL_NAMES = frozenset(str(status) for status in OrderStatus if status.is_terminal)


def now_ms() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class UpdateFollower:
    """Every update message the workers publish (`order-updates:*`), subscribed before anything is submitted.

    Redis dropping the subscription is survived: the follower reconnects and the caller fills the
    gap from the database (`quiet` tells it when nothing has been heard for a while).
    """

    def __init__(self, url: str, *, reconnect_s: float = 0.5) -> None:
        self.url = url
        self.reconnect_s = reconnect_s
        self._client: Redis | None = None
        self._pubsub: PubSub | None = None
        self.reconnects = 0

    async def start(self) -> None:
        self._client = redis_wire.from_url(self.url, decode_responses=True, socket_connect_timeout=2.0)
        self._pubsub = self._client.pubsub()
        await self._pubsub.psubscribe(CHANNEL_PATTERN)
        # Subscribed for certain only once Redis confirms; anything published later is heard.
        deadline = asyncio.get_running_loop().time() + 5.0
        while True:
            confirmation = await self._pubsub.get_message(timeout=1.0)
            if confirmation is not None and confirmation.get("type") == "psubscribe":
                return
            if asyncio.get_running_loop().time() > deadline:
                raise RedisError("no confirmation of the subscription to the update channels")

    async def messages(self, idle_s: float = 1.0) -> AsyncIterator[dict[str, Any] | None]:
        """Yield each message, or None after `idle_s` of silence (so the caller can look at the database)."""
        async for heard in self.messages_with_text(idle_s):
            yield heard[0] if heard is not None else None

    async def messages_with_text(self, idle_s: float = 1.0) -> AsyncIterator[tuple[dict[str, Any], str] | None]:
        """As `messages`, each with its JSON text as published (the contract's bytes, passed on unchanged)."""
        while True:
            try:
                if self._pubsub is None:
                    await self.start()
                assert self._pubsub is not None
                raw = await self._pubsub.get_message(timeout=idle_s)
            except (RedisError, OSError) as error:
                log.warning("update feed lost (%s); reconnecting", describe_error(error))
                await self._drop()
                self.reconnects += 1
                await asyncio.sleep(self.reconnect_s)
                yield None
                continue
            if raw is None:
                yield None
                continue
            if raw.get("type") != "pmessage":
                continue
            channel = str(raw.get("channel", ""))
            if not channel.startswith(CHANNEL_PREFIX):
                continue
            try:
                # Decimals, as the worker wrote them: re-encoded, a BONK price stays 0.0000252069, not 2.52069e-05.
                message = loads_exact(raw["data"])
            except (TypeError, ValueError):
                continue
            if isinstance(message, dict):
                yield message, raw["data"]

    async def _drop(self) -> None:
        pubsub, client, self._pubsub, self._client = self._pubsub, self._client, None, None
        with contextlib.suppress(RedisError, OSError):
            if pubsub is not None:
                await pubsub.aclose()
        with contextlib.suppress(RedisError, OSError):
            if client is not None:
                await client.aclose()

    async def close(self) -> None:
        await self._drop()
