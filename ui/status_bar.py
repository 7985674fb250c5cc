"""The status bar: the queue, the concurrency cap, the rate-limit window, the database and the Redis mirror.

Polled four times a second rather than pushed: `Engine.stats()` is a handful of integer reads,
and a steady poll shows the rate-limit window emptying even when no order changes.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from engine.engine import Engine
from engine.mirror import MirrorState
from engine.queue import QueueStats
from ui.mirror_link import mirror_text
from ui.theme import ERROR_TEXT

POLL_MS = 250


class DeskStatusBar(QStatusBar):
    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.queued = QLabel()
        self.queued.setToolTip("Orders waiting for a slot, and retries waiting out their back-off")
        self.in_flight = QLabel()
        self.in_flight.setToolTip("Attempts running now / the concurrency cap")
        self.rate_window = QLabel()
        self.rate_window.setToolTip("Attempt starts in the last 60 s / the rate limit")
        self.database = QLabel()
        self.database.setToolTip(engine.storage_health().url)
        self.mirror = QLabel()
        self.mirror.setToolTip("Redis mirror for external listeners")
        self.mirror.hide()
        self.cluster = QLabel()
        self.cluster.setToolTip("Cluster mode: dexdesk worker processes run the orders this desk submits")
        self.cluster.hide()
        self.addWidget(self.cluster)
        for label in (self.queued, self.in_flight, self.rate_window):
            self.addWidget(label)
        self.addPermanentWidget(self.mirror)
        self.addPermanentWidget(self.database)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        cluster = self.engine.cluster_text()
        if cluster is not None:
            self.show_cluster(cluster)
        else:
            self.show_stats(self.engine.stats())
        health = self.engine.storage_health()
        problem = f" — {health.last_error}" if health.last_error else ""
        self.database.setText(f"{health.dialect}: {_short_location(health.url)}{problem}")

    def show_stats(self, stats: QueueStats) -> None:
        backing_off = f" · {stats.delayed} backing off" if stats.delayed else ""
        self.queued.setText(f"Queued {stats.waiting}{backing_off}")
        self.in_flight.setText(f"In flight {stats.in_flight}/{stats.concurrency}")
        if stats.window_max > 0:
            self.rate_window.setText(f"Rate {stats.window_used}/{stats.window_max} per min")
        else:
            self.rate_window.setText("Rate limit off")

    def show_cluster(self, text: str) -> None:
        """Cluster mode: one line for the whole cluster replaces this desk's own queue figures."""
        for label in (self.queued, self.in_flight, self.rate_window):
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
    """Enough of the URL to recognise the database without a 200-character status bar."""
    location = url.split("://", 1)[-1]
    if len(location) > 60:
        location = f"…{location[-58:]}"
    return location
