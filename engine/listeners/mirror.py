"""The Redis mirror: every committed update, published for external listeners (key names in `mirror_keys`).

The engine must never wait on Redis, so the listener the engine calls only appends to memory;
one background task sends what has queued up, in order, in pipelined batches. While Redis is away
the backlog of publishes is bounded (oldest dropped first, counted) but each order's latest state
is always kept and written once Redis is back, so late listeners still find how every order ended.
Reconnects back off exponentially; after one, the snapshots of active orders are put back in case
Redis restarted empty. What is still to be written, and what is given up under pressure, is kept
by `mirror_backlog` (no Redis there); this module is the connection, the repair and the waiters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from engine.listeners import redis_wire
from engine.listeners.mirror_backlog import BacklogItem, MirrorBacklog
from engine.listeners.mirror_keys import (
    PUBLISH_CHUNK,
    PUBLISH_SCRIPT,
    REFRESH_SCRIPT,
    SNAPSHOT_TTL_S,
    MirrorKeys,
    client_options,
    describe_error,
    display_url,
    publish_call,
)
from engine.listeners.mirror_riders import Riders, execute_with_riders
from engine.listeners.mirror_state import MirrorState
from engine.listeners.mirror_waiters import SentWaiters
from engine.model.domain import Order, OrderUpdate, update_message
from engine.runtime.events import UpdateSource

log = logging.getLogger(__name__)

_MIRROR_ERRORS = (RedisError, OSError, ValueError)
_REPAIR_LIMIT = 10_000


class _RedisRestarted(RedisError):
    """The server answering is not the one the snapshots were written to: reconnect, and put them back."""


async def _server_run_id(client: Redis) -> str:
    """The server process's random id (`INFO server`): it changes on every restart, and a restart may empty it."""
    info = await client.info("server")
    return str(info.get("run_id", ""))


class RedisMirror:
    """Subscribe it to an engine (`attach`), `start()` it, `stop()` it after the engine."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str | None = None,
        backlog_limit: int = 10_000,
        terminal_limit: int = 100_000,
        batch_size: int = 500,
        snapshot_ttl_s: int = SNAPSHOT_TTL_S,
        min_backoff_s: float = 0.2,
        max_backoff_s: float = 10.0,
        health_interval_s: float = 5.0,
    ) -> None:
        self.url = url
        self.keys = MirrorKeys(namespace) if namespace else MirrorKeys()
        self._backlog = MirrorBacklog(backlog_limit=backlog_limit, terminal_limit=terminal_limit, batch_size=batch_size)
        self.batch_size = batch_size  # the refresh's pipelines; the backlog's batches are its own
        self.snapshot_ttl_s = snapshot_ttl_s
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.health_interval_s = health_interval_s
        self.state = MirrorState("stopped", display_url(url))
        self.connects = 0
        self._source = uuid.uuid4().hex[:12]
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._down = asyncio.Event()  # set while the last connect failed
        self._state_listeners: list[Callable[[MirrorState], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._lookup: Callable[[str], Awaitable[Order | None]] | None = None
        self.repaired = 0
        self.unflushed = 0
        self._detach: Callable[[], None] | None = None
        self._sent = SentWaiters(self._backlog.holds)
        self._riders = Riders(self._backlog.holds, self._wake.set)

    # -- wiring ---------------------------------------------------------------------------

    def attach(self, source: UpdateSource) -> None:
        """Listen to committed updates: an engine's, or anything else that announces them."""
        self._detach = source.subscribe(self, snapshots="none")  # another process's changes are its to publish

    def repair_from(self, lookup: Callable[[str], Awaitable[Order | None]]) -> None:
        """Where to look up orders Redis still lists as active but this mirror does not know.

        A process that exited while Redis was frozen or away could not write how its orders
        ended; the database knows. On each connect the mirror checks `{ns}:active` against it
        and publishes the end of every order that ended meanwhile (see `_repair`).
        """
        self._lookup = lookup
        # Not idle until the first connect has checked: a short-lived command (`resume` with nothing
        # to do) stops its mirror at once, and `stop` waits for idle (briefly) before it closes.
        self._idle.clear()

    async def ensure_ended(self, order: Order) -> None:
        """Publish an ended order's last state unless Redis already holds it as ended.

        A process can commit an order's end and die before its mirror sends it; whoever finds the
        order ended afterwards (a cluster worker handed the dead worker's job) calls this, so
        listeners still hear the end once. If Redis cannot be asked, the end is queued anyway:
        a listener may then hear it twice, never not at all.
        """
        if not order.is_terminal:
            return
        client: Redis | None = None
        try:
            client = redis_wire.from_url(self.url, **client_options())
            status = await client.hget(self.keys.snapshot(order.id), "status")
        except _MIRROR_ERRORS:
            status = None
        finally:
            if client is not None:
                with contextlib.suppress(*_MIRROR_ERRORS):
                    await client.aclose()
        text = status.decode() if isinstance(status, bytes) else status
        if text is not None and text == str(order.status):
            return
        self(OrderUpdate(update_message(order), order, ()))

    def adopt(self, orders: Iterable[Order]) -> None:
        """Know about orders that were active before this mirror existed (resumed ones).

        They are not published (nothing happened to them yet); their snapshot is put back only if
        Redis lost it.
        """
        self._backlog.adopt(orders)

    def on_state(self, callback: Callable[[MirrorState], None]) -> Callable[[], None]:
        """Call `callback(state)` on every change of state (the desk's status bar, the CLI)."""
        self._state_listeners.append(callback)
        return lambda: self._state_listeners.remove(callback) if callback in self._state_listeners else None

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._set_state(MirrorState("connecting", self.state.url))
            self._task = asyncio.create_task(self._run(), name="dexdesk-redis-mirror")

    async def stop(self, flush_timeout_s: float = 2.0) -> None:
        """Send what is queued if Redis is there (briefly), then close. Never raises, never outlives the timeout.

        A cancel can be swallowed: on Python 3.11 `asyncio.wait_for` inside redis-py's connect
        returns the connection when the cancel lands as it completes, and the task goes on. So
        the task also checks a stop flag at every step, and this waits for it with a deadline
        instead of awaiting it unbounded.
        """
        if self._detach is not None:
            self._detach()
            self._detach = None
        task = self._task
        if task is None:
            return
        deadline = asyncio.get_running_loop().time() + flush_timeout_s
        cancel_grace_s = min(0.5, flush_timeout_s / 2)
        if self.state.status in ("connected", "connecting"):
            # Still connecting counts: a short command would otherwise close before its first
            # connect corrected what Redis lists as active. A Redis found down ends the wait.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle_or_down(), flush_timeout_s - cancel_grace_s)
        self._stopping = True
        self._riders.withdraw_all("the Redis mirror is stopping")
        self._wake.set()
        task.cancel()
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        done, _ = await asyncio.wait({task}, timeout=max(remaining, 0.05))
        if not done:
            log.info("Redis mirror did not stop within %.1f s; leaving it to finish on its own", flush_timeout_s)
        self._task = None
        self.unflushed = self.pending
        self._set_state(MirrorState("stopped", self.state.url))

    def unflushed_line(self) -> str | None:
        """After `stop`: one line for the user when updates were left unsent (a slow or absent Redis), else None.

        A run that ended while Redis slept used to exit 0 with no word, leaving its orders listed
        active in Redis with stale snapshots; the next process that connects a mirror corrects
        them from the database (`repair_from`), and `watch --db` reads the database meanwhile.
        """
        if not self.unflushed:
            return None
        return (
            f"Redis mirror could not flush {self.unflushed} update(s) to {self.state.url} before exit; "
            "the next dexdesk process that connects to it corrects them from the database"
        )

    async def _idle_or_down(self) -> None:
        idle = asyncio.ensure_future(self._idle.wait())
        down = asyncio.ensure_future(self._down.wait())
        try:
            await asyncio.wait({idle, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()
            down.cancel()

    async def flushed(self) -> None:
        """Wait until everything queued so far has been written (tests, clean shutdowns)."""
        await self._idle.wait()

    async def sent(self, order_id: str, timeout_s: float) -> bool:
        """Wait until every update queued for this order has been written to Redis; False after `timeout_s`."""
        return await self._sent.wait(order_id, timeout_s)

    async def send_after(self, order_id: str, command: tuple[Any, ...], timeout_s: float) -> Any:
        """Run `command` on Redis right after the order's queued updates, in the pipeline that writes the last.

        Its reply, or an error Redis answered (returned, not raised). Raises `NotCarried` when
        nothing of the order is left to write or no pipeline took it within `timeout_s` (send it
        your own way then), and a failed pipeline's error (it may or may not have run).
        """
        return await self._riders.send(order_id, command, timeout_s)

    @property
    def pending(self) -> int:
        """How many writes are still to be made (queued publishes and kept latest states)."""
        return self._backlog.pending

    @property
    def published(self) -> int:
        return self._backlog.published

    @property
    def dropped(self) -> int:
        """Publishes forgotten because the backlog was full (their orders' latest states are still written)."""
        return self._backlog.dropped

    @property
    def snapshots_dropped(self) -> int:
        """Ended orders' latest states forgotten because too many were kept unsent."""
        return self._backlog.snapshots_dropped

    # -- the engine's side: memory only, never blocks ------------------------------------

    def __call__(self, update: OrderUpdate) -> None:
        if update.external:
            return  # another process changed it and published it; publishing again would repeat it
        self._backlog.add(update.order_id, update.message, update.status.is_terminal, update.text)
        self._idle.clear()
        self._wake.set()

    # -- the background side ---------------------------------------------------------------

    def _set_state(self, state: MirrorState) -> None:
        if state.status == "disconnected":
            self._down.set()
        else:
            self._down.clear()
        if state == self.state:
            return
        self.state = state
        for callback in tuple(self._state_listeners):
            try:
                callback(state)
            except Exception:
                log.exception("mirror state listener %r failed", callback)

    async def _run(self) -> None:
        delay = self.min_backoff_s
        while not self._stop_requested():
            client: Redis | None = None
            try:
                client = redis_wire.from_url(self.url, **client_options())
                server_run = await _server_run_id(client)
                publish_sha = await client.script_load(PUBLISH_SCRIPT)
                refresh_sha = await client.script_load(REFRESH_SCRIPT)
                if self._stop_requested():
                    return  # stop() came while connecting and its cancel was swallowed
                self.connects += 1
                self._set_state(MirrorState("connected", self.state.url))
                delay = self.min_backoff_s
                await self._refresh(client, refresh_sha)
                await self._repair(client)
                await self._drain(client, publish_sha, server_run)
            except _MIRROR_ERRORS as error:
                reason = describe_error(error)
                # info, not warning: the state listeners (status bar, the CLI's stderr line) tell the user once
                log.info("Redis mirror disconnected (%s); retrying in %.1f s", reason, delay)
                self._set_state(MirrorState("disconnected", self.state.url, reason, delay))
            finally:
                if client is not None:
                    with contextlib.suppress(*_MIRROR_ERRORS):
                        await client.aclose()
            if self._stop_requested():
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    def _stop_requested(self) -> bool:
        """A method, not the bare flag, so a check after an await is not 'known' to type checkers."""
        return self._stopping

    async def _refresh(self, client: Redis, sha: str) -> None:
        """Put back the snapshots of active orders whose latest state was already written once."""
        items = self._backlog.sent_active()
        for start in range(0, len(items), self.batch_size):
            pipe = client.pipeline(transaction=False)
            for item in items[start : start + self.batch_size]:
                pipe.evalsha(
                    sha,
                    2,
                    self.keys.snapshot(item.order_id),
                    self.keys.active,
                    item.order_id,
                    item.line,
                    item.message["status"],
                    self.snapshot_ttl_s,
                )
            await pipe.execute()

    async def _repair(self, client: Redis) -> None:
        """Publish the end of orders Redis lists as active that the database says have ended.

        Only orders this mirror does not track are looked up (its own are current), at most
        `_REPAIR_LIMIT` per connect; an id the database does not hold (another database's order
        in a shared namespace) is left alone. The ends go through the normal queue, so each is
        written with the snapshot, the set and the PUBLISH together, and late listeners see it.
        """
        if self._lookup is None:
            return
        known = self._backlog.known_ids()
        candidates: list[str] = []
        async for raw in client.sscan_iter(self.keys.active, count=500):
            order_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            if order_id not in known:
                candidates.append(order_id)
            if len(candidates) >= _REPAIR_LIMIT or self._stop_requested():
                break
        for order_id in candidates:
            if self._stop_requested():
                return
            try:
                order = await self._lookup(order_id)
            except Exception as error:  # noqa: BLE001 - the database's trouble is the engine's to report
                log.info("Redis mirror: cannot check orders in the database now (%s)", error)
                return
            if order is not None and order.is_terminal and not self._backlog.is_queued(order_id):
                self(OrderUpdate(update_message(order), order, ()))
                self.repaired += 1
        if self.repaired:
            log.info("Redis mirror: published the end of %d orders that ended while Redis was away", self.repaired)

    async def _drain(self, client: Redis, sha: str, server_run: str) -> None:
        while not self._stop_requested():
            if not self.pending and not self._riders:
                self._idle.set()
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.health_interval_s)
                except TimeoutError:
                    # Notice an outage while idle, so the status bar is honest, and a restart: redis-py may
                    # reconnect a pooled connection by itself (8.2 does), so a Redis that came back empty
                    # between two checks is known by its new run id, not by an error.
                    if await _server_run_id(client) != server_run:
                        raise _RedisRestarted("Redis restarted") from None
                continue
            batch = self._backlog.take_batch()
            riders = self._riders.board(self._backlog.held_after(batch))
            pipe = client.pipeline(transaction=False)
            for start in range(0, len(batch), PUBLISH_CHUNK):
                updates = [
                    (item.order_id, item.line, item.message["status"], item.terminal, item.pid)
                    for item in batch[start : start + PUBLISH_CHUNK]
                ]
                key_count, arguments = publish_call(self.keys, updates, self.snapshot_ttl_s, self._source)
                if riders:  # the script's text: Redis cannot refuse it for want of the script and run the riders
                    pipe.eval(PUBLISH_SCRIPT, key_count, *arguments)
                else:
                    pipe.evalsha(sha, key_count, *arguments)
            await execute_with_riders(pipe, riders)
            self._settle(batch)

    def _settle(self, batch: list[BacklogItem]) -> None:
        """Forget what landed, then wake whoever waits for an order that has nothing left to write."""
        self._backlog.settle(batch)
        self._sent.wake()
