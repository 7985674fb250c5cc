"""The desk's flows that menus, keys and context menus call: burst, cancel, export.

They lived in the main window, which made it a switchboard (issue 25: 694 lines, 48 methods);
here each flow asks its question with a dialog opened by `open()` (never `exec()`, so no nested
event loop runs inside an asyncio task), hands the engine the command, and says the outcome in
one line.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable, Coroutine
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialogButtonBox, QInputDialog, QWidget

from engine.model.domain import Direction, Order
from engine.model.validation import InvalidOrder
from engine.reporting.report_target import ReportTargetError
from engine.runtime.engine import Engine
from engine.storage.report_reader import sqlite_file
from ui.board.gc_policy import freeze_survivors
from ui.board.view import BoardView
from ui.burst_plan import BurstPlan, plan_burst
from ui.dialogs.csv_dialog import PLAIN_CSV, CsvSaveDialog, database_files
from ui.dialogs.reports import export_all, export_visible
from ui.notices import OrderNotices
from ui.status_bar import span_text

Spawn = Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]
# Orders a Burst makes, quotes and stores per loop turn: 250 held the window ~100-330 ms at once
# (each is quoted on both venues for its terms), 50 about a fifth of that (`dexdesk bench window`).
BURST_CHUNK = 50
BURST_TEXT_WIDTH = 90  # characters a line in the Burst dialog (~620 px)


class DeskActions(QObject):
    def __init__(
        self,
        engine: Engine,
        board: BoardView,
        notices: OrderNotices,
        *,
        spawn: Spawn,
        notify: Callable[[str], None],
        say: Callable[[str], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.board = board
        self.notices = notices
        self.spawn = spawn
        self.notify = notify
        self.say = say  # a line that stays longer (the status bar's), for what went wrong
        self.window = parent
        self.file_dialog: CsvSaveDialog | None = None
        self.burst_dialog: QInputDialog | None = None
        self._balances: dict[str, Decimal] | None = None
        self._last_folder: Path | None = None  # where the last report went: the next one is offered there

    # -- burst ----------------------------------------------------------------------------

    def burst_plan_for(self, count: int) -> BurstPlan:
        """What a burst of `count` would draw, from the balances last read (see `read_balances`)."""
        return plan_burst(
            self.engine.catalog,
            count,
            self._balances,
            self._buy_price,
            self.engine.settings.router.slippage_tolerance,
        )

    def _buy_price(self, pair: str) -> Decimal:
        """What the smallest BUY of `pair` pays now, fees included (the router's indicative quote)."""
        smallest = self.engine.catalog[pair].min_amount
        return self.engine.indicative_quote(pair, smallest, Direction.BUY).chosen.effective_price

    async def read_balances(self) -> dict[str, Decimal] | None:
        """The paper account's available balances now, or None when the desk runs without one."""
        view = await self.engine.account()
        self._balances = None if view is None else {b.token: b.available for b in view.balances}
        return self._balances

    async def burst(self, count: int, chunk: int = BURST_CHUNK) -> list[Order]:
        """Submit `count` orders the account can cover, in chunks, so 20,000 never hold the window long.

        Each chunk is one transaction, stored whole before any of it is queued; between chunks the
        loop paints and the first orders are already running. Each chunk's orders live until they
        end, so they are moved out of the collector's way as they are queued (ui/board/gc_policy.py):
        20,000 of them walked by every full collection held the window 100-200 ms, 17 times a burst.
        """
        await self.read_balances()
        plan = self.burst_plan_for(count)
        if not plan.possible:
            self.say(plan.describe().replace("\n", " "))
            return []
        eta = self.burst_eta(count)
        submitted: list[Order] = []
        burst = self.notices.burst_opened()
        try:
            for start in range(0, count, chunk):
                requests = plan.requests(start, min(chunk, count - start))
                ids = [request.order_id for request in requests]
                self.notices.burst_expects(burst, ids)
                try:
                    submitted.extend(await self.engine.submit_many(requests))
                except BaseException:
                    self.notices.burst_refused(burst, ids)
                    raise
                freeze_survivors()
        finally:
            self.notices.burst_closed(burst)
        self.notify(f"Burst of {len(submitted):,} orders queued{f' — the last starts in ≈ {eta}' if eta else ''}")
        return submitted

    async def burst_or_say_why(self, count: int) -> None:
        """The Burst action; a chunk the account cannot cover after all (the market moved) stops it there."""
        try:
            await self.burst(count)
        except InvalidOrder as refused:
            self.say(f"Burst stopped: the account cannot cover a chunk ({refused}); Account → Reset… for more")

    def burst_eta(self, count: int) -> str | None:
        """When the last of `count` more orders would start, by the rate limit; None if they start at once."""
        delay = self.engine.start_delay(count)
        return span_text(delay) if delay >= 1 else None

    def burst_timing(self, count: int) -> str:
        """How long the queue will take, told before anything is sent."""
        stats = self.engine.stats()
        ahead = stats.waiting + stats.delayed
        ahead_text = f", behind {ahead:,} already queued" if ahead else ""
        eta = self.burst_eta(count)
        if stats.window_max <= 0:
            return f"Rate limit off: all {count:,} start as fast as {stats.concurrency} slots allow{ahead_text}."
        if eta is None:
            return f"All {count:,} fit in the rate limit ({stats.window_max}/min): they start at once{ahead_text}."
        return (
            f"At {stats.window_max} starts per minute the last of {count:,} orders starts in ≈ {eta}{ahead_text}. "
            "Order → Cancel all queued stops it."
        )

    def ask_burst(self) -> QInputDialog:
        """The Burst dialog: how many, which pairs and sides the account covers, how long; OK only if covered."""
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Burst")
        dialog.setInputMode(QInputDialog.InputMode.IntInput)
        dialog.setIntRange(1, 100_000)
        dialog.setIntValue(200)

        def describe(count: int) -> None:
            plan = self.burst_plan_for(count)
            # Wrapped here: QInputDialog's label does not wrap, and the sides' list made it wider than a laptop.
            said = "\n".join(
                textwrap.fill(part, BURST_TEXT_WIDTH, break_on_hyphens=False) for part in plan.describe().split("\n")
            )
            timing = textwrap.fill(self.burst_timing(count), BURST_TEXT_WIDTH, break_on_hyphens=False)
            dialog.setLabelText(f"Submit this many random orders at once:\n{said}\n{timing}")
            ok = dialog.findChild(QDialogButtonBox)
            if isinstance(ok, QDialogButtonBox):
                button = ok.button(QDialogButtonBox.StandardButton.Ok)
                if button is not None:
                    button.setEnabled(plan.possible)

        async def with_balances() -> None:
            await self.read_balances()
            describe(dialog.intValue())

        describe(200)
        dialog.intValueChanged.connect(describe)
        dialog.intValueSelected.connect(lambda count: self.spawn(self.burst_or_say_why(count)))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.burst_dialog = dialog
        dialog.open()
        self.spawn(with_balances())
        return dialog

    # -- cancel ---------------------------------------------------------------------------

    def cancel_order(self, order_id: str) -> None:
        """The board's Cancel (row menu or Del): the engine decides; its one-line answer is shown."""

        async def cancel() -> None:
            result = await self.engine.cancel(order_id)
            outcome = "Cancelled" if result.outcome == "cancelled" else "Not cancelled"
            self.notify(f"{outcome} {order_id[:8]}: {result.reason}")

        self.spawn(cancel())

    def cancel_all_queued(self) -> None:
        async def cancel() -> int:
            cancelled = await self.engine.cancel_queued()
            running = self.engine.stats().in_flight
            in_flight = f"; {running} in flight finish (a sent swap cannot be recalled)" if running else ""
            self.notify(f"Cancelled {cancelled:,} queued order{'s' if cancelled != 1 else ''}{in_flight}")
            return cancelled

        self.spawn(cancel())

    # -- export ---------------------------------------------------------------------------

    def ask_export_all(self) -> CsvSaveDialog:
        return self._ask_csv_path("orders", lambda path, bom: self.spawn(self.export_all_to(path, bom=bom)))

    def ask_export_visible(self) -> CsvSaveDialog:
        return self._ask_csv_path("board", lambda path, bom: self.spawn(self.export_visible_to(path, bom=bom)))

    def _ask_csv_path(self, stem: str, chosen: Callable[[Path, bool], object]) -> CsvSaveDialog:
        """A save dialog opened with `open()` in the last report's folder; the file type picks the encoding;
        the offered name says when (`orders-2026-12-06-0512.csv`)."""
        name = f"{stem}-{datetime.now().strftime('%Y-%m-%d-%H%M')}.csv"
        folder = self.file_dialog_folder()
        dialog = CsvSaveDialog(self.window, folder / name, self._database())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def picked(path: str) -> None:
            self._last_folder = Path(path).parent
            chosen(Path(path), dialog.selectedNameFilter() != PLAIN_CSV)

        dialog.fileSelected.connect(picked)
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def file_dialog_folder(self) -> Path:
        return self._last_folder if self._last_folder is not None else Path.home()

    def _database(self) -> Path | None:
        return sqlite_file(self.engine.store.url)

    async def export_visible_to(self, path: Path, *, bom: bool = True) -> int:
        return await self._export(lambda: export_visible(self.board.visible_orders(), path, self.window, bom=bom), path)

    async def export_all_to(self, path: Path, *, bom: bool = True) -> int:
        return await self._export(lambda: export_all(self.engine, path, self.window, bom=bom), path)

    async def _export(self, work: Callable[[], Coroutine[Any, Any, int]], path: Path) -> int:
        if _same_file(path, database_files(self._database())):
            self.say(f"Export refused: {path} is the desk's database; choose another name")
            return 0
        try:
            rows = await work()
        except (ReportTargetError, OSError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            self.say(f"Export failed: {path}: {reason}")
            return 0
        self.notify(f"Exported {rows:,} orders to {path}")
        return rows


def _same_file(path: Path, files: list[Path]) -> bool:
    chosen = {path.expanduser().absolute(), path.expanduser().resolve()}
    return any(candidate in chosen for candidate in files)
