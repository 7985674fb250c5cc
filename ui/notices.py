"""Transient notices: what the trader just did and how it ended, without opening anything.

"BUY 100 JUP-USDC sent — 88d654b1" when the ticket's order is stored, its CONFIRMED or FAILED
when it ends, and a burst's outcome when its last order ends. Only orders sent from this desk
are followed (a burst of 20,000 makes one notice, not 20,000). With desktop notifications on, the
endings also go to the system tray as a silent message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QSystemTrayIcon

from engine.model.domain import Order, OrderStatus
from engine.model.outcomes import Outcome, outcome
from ui.bridge import EngineBridge
from ui.formatting import PairFormats, short_id
from ui.status_bar import span_text

NOTICE_MS = 8000


@dataclass(slots=True)
class Burst:
    """A burst being sent: its orders' ids are known before they are stored, so none ends unheard."""

    started: float
    waiting: set[str] = field(default_factory=set)
    size: int = 0
    counts: dict[OrderStatus, int] = field(default_factory=dict)
    sending: bool = True


class OrderNotices(QObject):
    """Follows the desk's own orders through the window's batches; `notice` carries one line to show."""

    notice = Signal(str)

    def __init__(self, formats: PairFormats, desktop: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.formats = formats
        self._desktop_enabled = desktop
        self._mine: set[str] = set()
        self._bursts: list[Burst] = []
        self._tray: QSystemTrayIcon | None = None
        self.desktop_messages: list[tuple[str, str]] = []  # what went to the tray, newest last (for the record)

    def sent(self, order: Order) -> None:
        self._mine.add(order.id)
        self.notice.emit(f"{order.direction} {self._amount(order)} {order.pair} sent — {short_id(order.id)}")

    def burst_opened(self) -> Burst:
        """A burst starts: follow its orders from before they are stored.

        At time scale 0 its first orders can end while later chunks are still being stored; a
        burst registered only after the last chunk then waited for endings already heard and
        never said it was done.
        """
        burst = Burst(time.monotonic())
        self._bursts.append(burst)
        return burst

    def burst_expects(self, burst: Burst, order_ids: Iterable[str]) -> None:
        """These orders are about to be stored as part of the burst."""
        ids = set(order_ids)
        burst.waiting |= ids
        burst.size += len(ids)

    def burst_refused(self, burst: Burst, order_ids: Iterable[str]) -> None:
        """A chunk was refused whole: nothing of it was stored, nothing of it will end."""
        ids = set(order_ids) & burst.waiting
        burst.waiting -= ids
        burst.size -= len(ids)

    def burst_closed(self, burst: Burst) -> None:
        """Every chunk is stored (or refused): the burst is done once its last order ends."""
        burst.sending = False
        self._finish_if_done(burst)

    def _finish_if_done(self, burst: Burst) -> None:
        if burst.sending or burst.waiting or burst not in self._bursts:
            return
        self._bursts.remove(burst)
        if burst.size:
            self._burst_done(burst)

    def follow(self, bridge: EngineBridge) -> None:
        """Subscribe to the engine's updates, to hear the endings of the orders this desk sent."""
        bridge.orders_changed.connect(self.seen)

    def seen(self, batch: dict[str, Order]) -> None:
        """A batch from the bridge: announce the endings of followed orders."""
        if self._mine:
            for order_id in self._mine & batch.keys():
                order = batch[order_id]
                if order.is_terminal:
                    self._mine.discard(order_id)
                    self._ended(order)
        for burst in list(self._bursts):
            ended = [batch[order_id] for order_id in burst.waiting & batch.keys() if batch[order_id].is_terminal]
            for order in ended:
                burst.waiting.discard(order.id)
                burst.counts[order.status] = burst.counts.get(order.status, 0) + 1
            self._finish_if_done(burst)

    def _ended(self, order: Order) -> None:
        head = f"{order.status} {order.direction} {self._amount(order)} {order.pair}"
        if order.status is OrderStatus.CONFIRMED:
            price = self.formats.price(order.pair, order.execution_price)
            venue = f" on {order.dex}" if order.dex else ""
            text = f"{head} at {price}{venue} — {short_id(order.id)}"
        elif outcome(order) is Outcome.EXPIRED:
            # Its own outcome, as on the board: "FAILED … — expired" read as if something went wrong.
            head = f"EXPIRED {order.direction} {self._amount(order)} {order.pair}"
            text = f"{head} — price not reached — {short_id(order.id)}"
        elif order.status is OrderStatus.FAILED:
            text = f"{head} — {order.error or 'no reason given'} — {short_id(order.id)}"
        else:
            text = f"{head} — {short_id(order.id)}"
        self.notice.emit(text)
        self._desktop(f"Order {text.split(' ', 1)[0]}", text)

    def _burst_done(self, burst: Burst) -> None:
        parts = [f"{count:,} {str(status).lower()}" for status, count in sorted(burst.counts.items())]
        took = span_text(time.monotonic() - burst.started)
        text = f"Burst of {burst.size:,} done in {took}: {', '.join(parts)}"
        self.notice.emit(text)
        self._desktop("Burst done", text)

    def _amount(self, order: Order) -> str:
        text = self.formats.amount(order.pair, order.amount)
        return text.rstrip("0").rstrip(".") if "." in text else text

    def _desktop(self, title: str, text: str) -> None:
        if not self._desktop_enabled() or not QSystemTrayIcon.isSystemTrayAvailable():
            return
        if self._tray is None:
            pixmap = QPixmap(16, 16)
            pixmap.fill()
            self._tray = QSystemTrayIcon(QIcon(pixmap), self)
            self._tray.setToolTip("dexdesk")
            self._tray.show()
        # NoIcon: the quietest message the platform offers; Qt plays no sound of its own.
        self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.NoIcon, NOTICE_MS)
        self.desktop_messages.append((title, text))

    def close(self) -> None:
        if self._tray is not None:
            self._tray.hide()
