"""The order detail windows and the Summary: opened from the board, kept up to date by the bridge.

Each subscribes itself to the bridge (vn.py's `register_event`): a detail window follows its own
order, the Summary recounts; the main window only hands them the bridge once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from engine.model.domain import Order
from engine.runtime.engine import Engine
from ui.board.view import BoardView
from ui.bridge import EngineBridge
from ui.dialogs.detail import OrderDetail
from ui.dialogs.summary import SummaryDialog


class OrderWindows(QObject):
    def __init__(
        self,
        engine: Engine,
        board: BoardView,
        *,
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
        notify: Callable[[str], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.engine, self.board, self.spawn, self.notify, self.window = engine, board, spawn, notify, parent
        self.details: dict[str, OrderDetail] = {}
        self.summary_dialog: SummaryDialog | None = None

    def follow(self, bridge: EngineBridge) -> None:
        bridge.orders_changed.connect(self._orders_changed)

    def _orders_changed(self, batch: dict[str, Order]) -> None:
        if self.summary_dialog is not None:
            self.summary_dialog.orders_changed()
        for order_id, dialog in list(self.details.items()):
            snapshot = batch.get(order_id)
            if snapshot is not None:
                dialog.update_order(snapshot)

    def open_detail(self, order_id: str) -> OrderDetail | None:
        existing = self.details.get(order_id)
        if existing is not None:
            existing.raise_()
            existing.activateWindow()
            return existing
        snapshot = self.board.model.get(order_id)
        if snapshot is None:
            return None
        dialog = OrderDetail(snapshot, self.engine.catalog, self.window)
        dialog.cancel_requested.connect(self._cancel_from_detail)
        self.details[order_id] = dialog
        dialog.finished.connect(lambda _result: self.details.pop(order_id, None))
        dialog.show()

        async def fill_in() -> None:
            stored = await self.engine.order(order_id)
            if stored is not None and order_id in self.details:
                dialog.update_order(stored)

        self.spawn(fill_in())
        return dialog

    def open_selected(self) -> None:
        order_id = self.board.selected_order_id()
        if order_id:
            self.open_detail(order_id)

    def _cancel_from_detail(self, order_id: str) -> None:
        async def cancel() -> None:
            result = await self.engine.cancel(order_id)
            dialog = self.details.get(order_id)
            if dialog is not None:
                dialog.show_cancel_result(result.outcome, result.reason)
                stored = await self.engine.order(order_id)  # the whole log, with its cancelled entry
                if stored is not None and order_id in self.details:
                    dialog.update_order(stored)
            said = "cancelled" if result.outcome == "cancelled" else f"not cancelled: {result.reason}"
            self.notify(f"Order {order_id[:8]} {said}")

        self.spawn(cancel())

    def open_summary(self) -> SummaryDialog:
        if self.summary_dialog is not None:
            self.summary_dialog.raise_()
            self.summary_dialog.activateWindow()
            return self.summary_dialog
        dialog = SummaryDialog(self.engine, self.spawn, self.board_filter_words, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: setattr(self, "summary_dialog", None))
        self.summary_dialog = dialog
        dialog.show()
        return dialog

    def board_filter_words(self) -> str | None:
        """What the board's filter hides, in words, or None when it shows every order."""
        shown, total = self.board.model.rowCount(), self.board.model.total
        return f"the board shows {shown:,} of {total:,}" if shown != total else None

    def close_all(self) -> None:
        for dialog in list(self.details.values()):
            dialog.close()
        if self.summary_dialog is not None:
            self.summary_dialog.close()
