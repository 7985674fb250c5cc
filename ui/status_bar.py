"""The status bar: the queue and its ETA, the concurrency cap, the rate limit, who runs what, the database, Redis.

Polled four times a second rather than pushed: `Engine.stats()` is a handful of integer reads,
and a steady poll shows the rate-limit window emptying even when no order changes. The counters
are permanent widgets, so a transient message (left) never hides them, and each label only ever
grows, so the figures keep their place while they tick.
"""

from __future__ import annotations

import asyncio
import math

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from engine.listeners.mirror_state import MirrorState
from engine.runtime.engine import Engine
from engine.runtime.queue import QueueStats
from ui.mirror_link import mirror_text
from ui.theme import ERROR_TEXT, current_theme

POLL_MS = 250
OWNERSHIP_POLL_MS = 2000


def span_text(seconds: float) -> str:
    """A wait as people say it: "24 s", "2 min 6 s", "1 h 5 min"."""
    whole = max(0, math.ceil(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def queue_text(stats: QueueStats) -> str:
    backing_off = f" · {stats.delayed:,} backing off" if stats.delayed else ""
    eta = f" ≈ {span_text(stats.drain_in_s)}" if stats.drain_in_s else ""
    return f"{stats.waiting:,} queued{eta}{backing_off}"


def rate_text(stats: QueueStats, window_s: float = 60.0) -> str:
    """The window is named as configured: "per min" only when it is a minute (`--rate-window` may differ)."""
    if stats.window_max <= 0:
        return "Rate limit off"
    used = f"Rate {stats.window_used}/{stats.window_max}"
    if stats.next_start_in_s is not None:  # short enough to leave room for notices on a laptop screen
        return f"{used} · rate limit reached — next start in {span_text(stats.next_start_in_s)}"
    return f"{used} per {window_text(window_s)}"


def window_text(window_s: float) -> str:
    """A rate window as people say it: "min" for the contract's 60 s, else "4 s", "2 min", "1.5 s"."""
    if window_s == 60:
        return "min"
    if window_s >= 60 and window_s % 60 == 0:
        return f"{int(window_s // 60)} min"
    return f"{window_s:g} s"


class StableLabel(QLabel):
    """A label that does not get narrower as its figures tick: a counter going from 10 to 9 does not
    shift its neighbours. Only when a whole part of its text goes away (it needs under three
    quarters of its width) does it give the room back, to the notices on the left."""

    def setText(self, text: str) -> None:
        super().setText(text)
        wanted = self.sizeHint().width()
        if wanted > self.minimumWidth() or wanted < self.minimumWidth() * 3 // 4:
            self.setMinimumWidth(wanted)


class DeskStatusBar(QStatusBar):
    # Said once, at the poll that finds it: the store lost its SQLite lock (engine/storage/sqlite_lock.py).
    storage_alarm = Signal(str)

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._lock_losses = 0
        self.queued = StableLabel()
        self.queued.setToolTip(
            "Orders waiting for a slot (and when the last one starts, by the rate limit), "
            "and retries waiting out their back-off"
        )
        self.in_flight = StableLabel()
        self.in_flight.setToolTip("Attempts running now / the concurrency cap")
        self.rate = StableLabel()
        self.rate.setToolTip("Attempt starts in the last 60 s / the rate limit")
        self.ownership = StableLabel()
        self.ownership.setToolTip(
            "Active orders this desk runs, and active orders other processes (desks, dexdesk run) run on this database"
        )
        self.database = QLabel()
        self.database.setToolTip(engine.storage_health().url)
        self.mirror = QLabel()
        self.mirror.setToolTip("Redis mirror for external listeners")
        self.mirror.hide()
        self.cluster = QLabel()
        self.cluster.setToolTip("Cluster mode: dexdesk worker processes run the orders this desk submits")
        self.cluster.hide()
        for label in (self.cluster, self.queued, self.in_flight, self.rate, self.ownership, self.mirror, self.database):
            self.addPermanentWidget(label)
        self._others: int | None = None
        self._others_task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._ownership_timer = QTimer(self)
        self._ownership_timer.setInterval(OWNERSHIP_POLL_MS)
        self._ownership_timer.timeout.connect(self._ask_others)
        self._ownership_timer.start()
        self.refresh()

    def refresh(self) -> None:
        cluster = self.engine.cluster_text()
        if cluster is not None:
            self.show_cluster(cluster)
        else:
            self.show_stats(self.engine.stats())
        self._look_at_lock()
        health = self.engine.storage_health()
        problem = f" — {health.last_error}" if health.last_error else ""
        self.database.setText(f"{health.dialect}: {_short_location(health.url)}{problem}")
        self.database.setStyleSheet(f"color: {ERROR_TEXT.name()};" if health.last_error else "")
        self._show_ownership()

    def _look_at_lock(self) -> None:
        """The store's between-transactions lock check, four times a second (~45 µs on Linux); a loss
        found here or by a commit's own check is told once, in the notice line."""
        store = self.engine.store
        store.check_lock()
        if store.lock_losses > self._lock_losses:
            self._lock_losses = store.lock_losses
            self.storage_alarm.emit(f"Database: {store.last_error or 'this process lost its SQLite lock; reopened'}")

    def show_stats(self, stats: QueueStats) -> None:
        self.queued.setText(queue_text(stats))
        self.in_flight.setText(f"In flight {stats.in_flight}/{stats.concurrency}")
        window_s = self.engine.settings.queue.limiter_duration_s
        self.rate.setText(rate_text(stats, window_s))
        self.rate.setToolTip(f"Attempt starts in the last {span_text(window_s)} / the rate limit")
        full = stats.window_max > 0 and stats.window_used >= stats.window_max
        self.rate.setStyleSheet(current_theme().rate_full_style if full else "")

    def _show_ownership(self) -> None:
        mine = self.engine.owned_count()
        others = "…" if self._others is None else f"{self._others:,}"
        self.ownership.setText(f"this desk runs {mine:,} · others {others}")

    def _ask_others(self) -> None:
        """Other processes' active orders are a database count: asked every 2 s, one question at a time."""
        if self._others_task is not None and not self._others_task.done():
            return
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # no loop any more (a desk closing down): nothing to ask with
            return
        if loop.is_closed():
            return  # made no coroutine that would never be awaited
        self._others_task = loop.create_task(self._count_others())

    async def _count_others(self) -> None:
        try:
            self._others = await self.engine.others_active_count()
        except Exception:  # noqa: BLE001 — a count that cannot be read now is shown as unknown, and asked again
            self._others = None
        self._show_ownership()

    def stop(self) -> None:
        self._timer.stop()
        self._ownership_timer.stop()
        if self._others_task is not None:
            self._others_task.cancel()

    def show_cluster(self, text: str) -> None:
        """Cluster mode: one line for the whole cluster replaces this desk's own queue figures."""
        for label in (self.queued, self.in_flight, self.rate):
            label.hide()
        self.cluster.setText(text[:1].upper() + text[1:])
        self.cluster.show()

    def set_mirror_state(self, text: str, *, problem: bool = False, tooltip: str | None = None) -> None:
        """For the Redis mirror to report itself ("Redis: connected", "Redis: disconnected — …")."""
        self.mirror.setText(text)
        self.mirror.setStyleSheet(f"color: {ERROR_TEXT.name()};" if problem else "")
        self.mirror.setToolTip(tooltip or "Redis mirror for external listeners")
        self.mirror.show()

    def show_mirror(self, state: MirrorState | None) -> None:
        """A mirror state as it comes from `MirrorLink`; None (no Redis URL set) hides the label."""
        if state is None:
            self.mirror.hide()
            return
        tooltip = f"Redis mirror for external listeners: {state.url}"
        if state.status == "disconnected":
            tooltip += "\nOrders carry on; the mirror reconnects by itself and catches up."
        self.set_mirror_state(mirror_text(state), problem=state.status == "disconnected", tooltip=tooltip)


def _short_location(url: str) -> str:
    """Enough of the URL to recognise the database (the file's name, or host/database); the tooltip has all of it."""
    location = url.split("://", 1)[-1]
    if "/" in location and "@" not in location and ":" not in location.split("/", 1)[0]:
        location = location.rsplit("/", 1)[-1] or location  # a SQLite file: its name
    if len(location) > 40:
        location = f"…{location[-38:]}"
    return location
