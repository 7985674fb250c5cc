"""`dexdesk watch`: the reference external listener. It reads Redis only, never the database.

With an order id it prints that order's update messages as JSON lines, starting from its current
state, and exits when the order is CONFIRMED (status 0) or FAILED (status 1). Without one it
follows every order until interrupted.

No gap, no repeat: it reads the snapshot's `seq` (messages published so far), SUBSCRIBEs, then
reads `seq` and the snapshot again. If `seq` did not move, the channel brings exactly the messages
after the snapshot; if it moved, a message was published while subscribing, so it unsubscribes
and tries again (an order changes state a handful of times, so this settles at once).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import AuthenticationError, RedisError, ResponseError

from engine.config.settings import Settings
from engine.listeners import redis_wire
from engine.listeners.mirror_keys import CHANNEL_PATTERN, MirrorKeys, client_options, describe_error, display_url
from engine.model.exit_codes import ExitCode

Write = Callable[[str], None]
_TERMINAL = ("CONFIRMED", "FAILED", "CANCELLED")
_STALE_NOTE_S = 60.0
IdleCheck = Callable[[], Awaitable[str | None]]
_HEALTH_S = 5.0
_MAX_BACKOFF_S = 5.0


class WatchFailed(RuntimeError):
    """Redis could not be used at all (unreachable, refused); `refused` marks configuration problems."""

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


def _stdout_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _stderr_note(text: str) -> None:
    print(f"dexdesk: {text}", file=sys.stderr, flush=True)


def _status(line: str) -> str | None:
    try:
        value = json.loads(line).get("status")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


async def watch(args: argparse.Namespace, settings: Settings) -> int:
    """The `watch` command's handler."""
    if not settings.redis_url:
        _stderr_note("watch needs a Redis URL: --redis URL or DEXDESK_REDIS_URL")
        return ExitCode.BAD_INPUT
    keys = MirrorKeys(settings.redis_prefix)
    try:
        if args.order_id is None:
            await follow_all(settings.redis_url, _stdout_line, _stderr_note)
            return ExitCode.OK
        try:
            order_id = str(uuid.UUID(args.order_id.strip()))
        except ValueError:
            _stderr_note("ORDER_ID: must be a full order id (36 characters, as `dexdesk list` shows)")
            return ExitCode.BAD_INPUT
        check = _database_check(settings.db_url) if settings.db_url else None
        final = await follow_order(settings.redis_url, keys, order_id, _stdout_line, _stderr_note, check)
        return ExitCode.OK if final == "CONFIRMED" else ExitCode.FAILED
    except WatchFailed as error:
        _stderr_note(str(error))
        return ExitCode.BAD_INPUT if error.refused else ExitCode.FAILED
    except BrokenPipeError:
        return ExitCode.OK  # the reader went away (`dexdesk watch | head -3`): nothing more to say


def _database_check(db_url: str) -> Callable[[str], Awaitable[str | None]]:
    """With --db: the order's end as the database has it, as the JSON line the mirror would publish."""

    async def check(order_id: str) -> str | None:
        from engine.model.domain import update_message
        from engine.model.jsonfmt import dumps
        from engine.storage import OrderStore, StorageUnavailable

        store = OrderStore(db_url)
        try:
            await store.open(create=False)
        except StorageUnavailable as error:
            raise WatchFailed(str(error), refused=True) from None
        try:
            order = await store.get(order_id)
        finally:
            await store.close()
        return dumps(update_message(order)) if order is not None and order.is_terminal else None

    return check


def _connect(url: str) -> Redis:
    return redis_wire.from_url(url, decode_responses=True, **client_options())


def _failure(url: str, error: BaseException) -> WatchFailed:
    refused = isinstance(error, AuthenticationError | ResponseError)
    verb = "refused the connection" if refused else "cannot be reached"
    return WatchFailed(f"Redis at {display_url(url)} {verb}: {describe_error(error)}", refused=refused)


async def _confirmation(pubsub: PubSub, kind: str) -> None:
    """Read until the server confirms (un)subscribing; messages read meanwhile are not ours to print."""
    while True:
        message = await pubsub.get_message(timeout=_HEALTH_S)
        if message is None:
            raise RedisError(f"no {kind} confirmation from Redis")
        if message["type"] == kind:
            return


async def _messages(pubsub: PubSub, idle: IdleCheck | None = None) -> AsyncIterator[str]:
    """Published lines as they come; a PING when idle notices a Redis that went away.

    `idle`, called at each quiet interval, may supply a line from elsewhere (the database).
    """
    while True:
        message = await pubsub.get_message(timeout=_HEALTH_S)
        if message is None:
            await pubsub.ping()
            if idle is not None and (line := await idle()) is not None:
                yield line
        elif message["type"] in ("message", "pmessage"):
            yield message["data"]


async def _subscribe_at_snapshot(client: Redis, pubsub: PubSub, keys: MirrorKeys, order_id: str) -> str | None:
    """Subscribe so that the channel continues exactly where the returned snapshot line ends."""
    snapshot, channel = keys.snapshot(order_id), keys.channel(order_id)
    while True:
        before = await client.hget(snapshot, "seq")
        await pubsub.subscribe(channel)
        await _confirmation(pubsub, "subscribe")
        after, line = await client.hmget(snapshot, ["seq", "message"])
        if before == after:
            return cast(str | None, line)  # the client decodes replies (decode_responses=True): text, never bytes
        await pubsub.unsubscribe(channel)
        await _confirmation(pubsub, "unsubscribe")


async def follow_order(
    url: str,
    keys: MirrorKeys,
    order_id: str,
    write: Write,
    note: Write = _stderr_note,
    db_check: Callable[[str], Awaitable[str | None]] | None = None,
) -> str:
    """Write the order's messages from its current state on; return its terminal status.

    If Redis goes away meanwhile, reconnect with back-off and go on from the snapshot, which
    holds the order's latest state even if some publishes were missed.
    """
    last: str | None = None
    ever_connected = False
    delay = 0.2
    while True:
        client = _connect(url)
        pubsub = client.pubsub()
        try:
            line = await _subscribe_at_snapshot(client, pubsub, keys, order_id)
            if line is None and not ever_connected:
                note(f"no state of order {order_id} in Redis yet; waiting for its updates")
            ever_connected, delay = True, 0.2
            if line is not None and line != last:
                write(line)
                last = line
            if line is not None and _status(line) in _TERMINAL:
                return str(_status(line))
            if db_check is not None and (ended := await db_check(order_id)) is not None:
                write(ended)  # Redis missed its end (a process exited while Redis was away)
                return str(_status(ended))
            quiet = _idle_check(order_id, line, db_check, note)
            async for published in _messages(pubsub, quiet):
                write(published)
                last = published
                if _status(published) in _TERMINAL:
                    return str(_status(published))
        except (RedisError, OSError) as error:
            if not ever_connected:
                raise _failure(url, error) from None
            note(f"lost Redis ({describe_error(error)}); reconnecting in {delay:g} s")
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
                await client.aclose()
        await asyncio.sleep(delay)
        delay = min(delay * 2, _MAX_BACKOFF_S)


def _idle_check(
    order_id: str, snapshot: str | None, db_check: Callable[[str], Awaitable[str | None]] | None, note: Write
) -> IdleCheck:
    """What to do while an order is quiet: ask the database (with --db), or say once that it is stale."""
    quiet_since = asyncio.get_running_loop().time()
    told = False

    async def check() -> str | None:
        nonlocal told
        if db_check is not None:
            return await db_check(order_id)
        if not told and asyncio.get_running_loop().time() - quiet_since >= _STALE_NOTE_S:
            told = True
            status = _status(snapshot) if snapshot else "unknown"
            note(
                f"no update of order {order_id} for {_STALE_NOTE_S:g} s (last state in Redis: {status}); "
                "if its process ended while Redis was away, add --db URL to check the database"
            )
        return None

    return check


async def follow_all(url: str, write: Write, note: Write = _stderr_note) -> None:
    """Write every order's messages (`order-updates:*`) until cancelled; reconnect if Redis goes away."""
    ever_connected = False
    delay = 0.2
    while True:
        client = _connect(url)
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(CHANNEL_PATTERN)
            await _confirmation(pubsub, "psubscribe")
            if ever_connected:
                note("reconnected to Redis; updates published while it was away were missed")
            ever_connected, delay = True, 0.2
            async for line in _messages(pubsub):
                write(line)
        except (RedisError, OSError) as error:
            if not ever_connected:
                raise _failure(url, error) from None
            note(f"lost Redis ({describe_error(error)}); reconnecting in {delay:g} s")
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
                await client.aclose()
        await asyncio.sleep(delay)
        delay = min(delay * 2, _MAX_BACKOFF_S)
