"""The one place engine updates enter Qt: a listener that coalesces snapshots into one signal per frame.

The engine calls listeners synchronously in its own task (on the Qt thread, through qasync), often
thousands of times a second at time scale 0. Emitting a Qt signal per update would make the board
repaint per update; instead the latest snapshot per order is kept and flushed by a single-shot
timer, so widgets see at most one batch per frame and an order that changed five times in a frame
is applied once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from engine.domain import Order, OrderUpdate
from engine.engine import Engine

FRAME_MS = 16


class EngineBridge(QObject):
    """Engine → Qt. `orders_changed` carries `dict[order id, latest Order snapshot]` (with its logs)."""

    orders_changed = Signal(object)

    def __init__(self, engine: Engine, parent: QObject | None = None, *, frame_ms: int = FRAME_MS) -> None:
        super().__init__(parent)
        self.engine = engine
        self._pending: dict[str, Order] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(frame_ms)
        self._timer.timeout.connect(self.flush)
        self._unsubscribe: Callable[[], None] | None = engine.subscribe(self._on_update)
        self.updates_seen = 0
        self.batches_emitted = 0

    def _on_update(self, update: OrderUpdate) -> None:
        # Called in the engine's task: only remember, never touch widgets here.
        self._pending[update.order.id] = update.order
        self.updates_seen += 1
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Hand everything pending to the widgets now (the timer does this once per frame)."""
        self._timer.stop()
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        self.batches_emitted += 1
        self.orders_changed.emit(batch)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.flush()
