"""What a status line shows of the Redis mirror, and `info`'s one-shot look at Redis.

Kept apart from the mirror itself (engine/listeners/mirror.py): the desk's status bar, the API's
health and `dexdesk info` read a mirror's state, or probe Redis once, without the mirror's queue.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError

from engine.listeners import redis_wire
from engine.listeners.mirror_keys import MirrorKeys, client_options, describe_error, display_url

Status = Literal["connecting", "connected", "disconnected", "stopped"]
_PROBE_ERRORS = (RedisError, OSError, ValueError)


@dataclass(frozen=True, slots=True)
class MirrorState:
    """What a status bar shows: connected or not, and why not."""

    status: Status
    url: str
    reason: str | None = None
    retry_in_s: float | None = None

    @property
    def connected(self) -> bool:
        return self.status == "connected"

    @property
    def text(self) -> str:
        if self.status == "connected":
            return f"Redis mirror: connected to {self.url}"
        if self.status == "disconnected":
            retry = f"; retrying in {self.retry_in_s:g} s" if self.retry_in_s else ""
            return f"Redis mirror: disconnected from {self.url} ({self.reason}){retry}"
        return f"Redis mirror: {self.status} ({self.url})"


async def probe(url: str, namespace: str | None = None) -> tuple[MirrorState, int | None]:
    """Connect once and report the state and the number of active orders mirrored (for `info`)."""
    keys = MirrorKeys(namespace) if namespace else MirrorKeys()
    shown = display_url(url)
    client: Redis | None = None
    try:
        client = redis_wire.from_url(url, **client_options())
        active = await client.scard(keys.active)
        return MirrorState("connected", shown), int(active)
    except _PROBE_ERRORS as error:
        return MirrorState("disconnected", shown, describe_error(error)), None
    finally:
        if client is not None:
            with contextlib.suppress(*_PROBE_ERRORS):
                await client.aclose()
