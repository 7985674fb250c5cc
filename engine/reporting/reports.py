"""CSV reports: docs/contract.md's 12 columns, then four added at the end, RFC 4180 quoting.

The contract's columns keep their names and order (scripts read them by position); the added
ones are `quotedPrice`, `slippageBps` (positive = worse than quoted), `notional` and `fee` (both in
the pair's QUOTE token), filled for CONFIRMED orders from the figures stored when the order was
confirmed (engine/storage/figure_columns.py), so an export parses no JSON and does no decimal
maths. The file is UTF-8 with a BOM by default, so Excel reads accents and "…" right;
`bom=False` writes plain UTF-8 for LibreOffice (whose "plain" import shows a BOM as "ï»¿id" in
A1) and for scripts. See docs/csv.md for the import settings.

Rows are streamed from storage in pages; a worker thread encodes and writes each page while the
loop fetches the next, so a large export never holds the database in memory and never stalls
the loop that runs orders and the desk. Where the report may go (and how: atomically over a
regular file, or streamed into a FIFO or terminal) is `engine.reporting.report_target`'s decision.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from engine.model.domain import Order, OrderStatus, format_timestamp
from engine.model.jsonfmt import format_decimal
from engine.model.outcomes import outcome, outcome_of
from engine.reporting.report_target import ReportTarget, choose_target
from engine.storage import OrderStore
from engine.storage.figure_columns import figure_values
from engine.storage.report_reader import report_pages, sqlite_file

COLUMNS = (
    "id",
    "createdAt",
    "updatedAt",
    "pair",
    "direction",
    "amount",
    "status",
    "dex",
    "executionPrice",
    "txHash",
    "attempts",
    "error",
)
ADDED_COLUMNS = ("quotedPrice", "slippageBps", "notional", "fee", "userId")
_FIGURE_COLUMNS = 4
# How the order ended (engine/model/outcomes.py): filled, failed, expired or cancelled; empty while active.
OUTCOME_COLUMN = "outcome"
HEADER = (*COLUMNS, *ADDED_COLUMNS, OUTCOME_COLUMN)
_STATUS_CELL, _ERROR_CELL = COLUMNS.index("status"), COLUMNS.index("error")
_SEPARATORS = len(HEADER) - 1
_LINE_END = "\r\n"


def _decimal(value: Decimal | None) -> str:
    return format_decimal(value) if value is not None else ""


def csv_row(order: Order) -> list[str]:
    """One order's cells, from the order itself (a board's rows); the stored figures are the same numbers."""
    added = figure_values(order, format_decimal)[:_FIGURE_COLUMNS]
    return [
        order.id,
        format_timestamp(order.created_at),
        format_timestamp(order.updated_at),
        order.pair,
        str(order.direction),
        _decimal(order.amount),
        str(order.status),
        str(order.dex) if order.dex else "",
        _decimal(order.execution_price),
        order.tx_hash or "",
        str(order.attempts),
        order.error or "",
        *(cell or "" for cell in added),
        order.user_label or "",
        str(outcome(order) or ""),
    ]


# Small pages: the writer holds the GIL for a whole page, and the loop must get it back within a frame.
_PAGE_ROWS = 1000


class CsvReport:
    """A report being written to a checked target; blocking file work, so run it off the loop."""

    def __init__(self, target: ReportTarget | str | Path, *, bom: bool = True) -> None:
        self.target = target if isinstance(target, ReportTarget) else choose_target(target)
        self.rows = 0
        self._encoding = "utf-8-sig" if bom else "utf-8"
        self._partial: Path | None = None
        self._binary: BinaryIO | None = None
        self._text: io.TextIOWrapper | None = None

    def __enter__(self) -> CsvReport:
        self._binary, self._partial = self.target.open()
        self._text = io.TextIOWrapper(self._binary, encoding=self._encoding, newline="", write_through=False)
        self._writer = csv.writer(self._text, lineterminator="\r\n")
        self._writer.writerow(HEADER)
        return self

    def add(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self._writer.writerow(csv_row(order))
            self.rows += 1

    def add_cells(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of the report's first 17 cells, as stored (None is written as an empty cell); the outcome is added here.

        Most rows need no quoting (ids, times, decimals, names), so a page is joined into lines
        with `str.join` and written in one go, which is about twice as fast as `csv.writer`; a
        row with a comma, a quote or a line break in a cell (an error message) is left to
        `csv.writer`, so the bytes are exactly what it writes for every row.
        """
        assert self._text is not None
        if not rows:
            return
        rows = [(*row, outcome_of(row[_STATUS_CELL], row[_ERROR_CELL]) or "") for row in rows]
        try:
            lines = list(map(",".join, rows))
        except TypeError:  # None or numbers among the cells (PostgreSQL's rows)
            rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
            lines = list(map(",".join, rows))
        text = _LINE_END.join(lines) + _LINE_END
        count = len(lines)
        if text.count(",") == _SEPARATORS * count and '"' not in text and text.count("\n") == text.count("\r") == count:
            self._text.write(text)
        else:
            self._add_lines_or_quote(rows, lines)
        self.rows += count

    def _add_lines_or_quote(self, rows: Sequence[Sequence[Any]], lines: list[str]) -> None:
        assert self._text is not None
        plain: list[str] = []
        for row, line in zip(rows, lines, strict=True):
            if line.count(",") == _SEPARATORS and '"' not in line and "\r" not in line and "\n" not in line:
                plain.append(line + _LINE_END)
                continue
            if plain:
                self._text.write("".join(plain))
                plain = []
            self._writer.writerow(row)
        if plain:
            self._text.write("".join(plain))

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        assert self._text is not None
        try:
            self._text.close()
        except OSError:
            if kind is None:
                self.target.discard(self._partial)
                raise
        if kind is None:
            self.target.finish(self._partial)
        else:
            self.target.discard(self._partial)


def write_csv(path: Path | ReportTarget, orders: Iterable[Order], *, bom: bool = True) -> int:
    """Write given orders (what a board shows) as a report; returns the number of rows. Blocks."""
    with CsvReport(path, bom=bom) as report:
        report.add(orders)
    return report.rows


class _FileWorker:
    """One daemon thread that runs the report's file work in order; the loop awaits each step.

    A daemon thread of its own rather than an executor: a FIFO nobody reads blocks its `open`
    forever, and Ctrl-C must still end the process instead of waiting for that thread at exit.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | None] = queue.SimpleQueue()
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._serve, name="dexdesk-report-writer", daemon=True).start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            work, future = job
            try:
                result = work()
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting task, which decides
                self._loop.call_soon_threadsafe(_settle, future, None, error)
            else:
                self._loop.call_soon_threadsafe(_settle, future, result, None)

    def submit(self, work: Callable[[], Any]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = self._loop.create_future()
        self._jobs.put((work, future))
        return future

    def close(self) -> None:
        self._jobs.put(None)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def export_csv(
    store: OrderStore,
    path: Path | str | ReportTarget,
    *,
    status: OrderStatus | None = None,
    pair: str | None = None,
    progress: Callable[[int], None] | None = None,
    bom: bool = True,
) -> int:
    """Stream every matching order from storage into a report, oldest first, off the loop.

    On SQLite the worker thread reads the file itself (`report_reader`) and the loop only waits.
    Elsewhere the loop fetches page N+1 while the thread writes page N. Raises
    `ReportTargetError` for a place a report may not go and `OSError` when a write is refused.
    """
    target = path if isinstance(path, ReportTarget) else choose_target(path)
    report = CsvReport(target, bom=bom)
    worker = _FileWorker()
    entered = False
    try:
        await worker.submit(report.__enter__)
        entered = True
        database_file = sqlite_file(store.url)
        if database_file is not None:
            await _copy_in_thread(worker, report, database_file, status, pair, progress)
        else:
            await _copy_through_loop(worker, report, store, status, pair, progress)
        await worker.submit(lambda: report.__exit__(None, None, None))
    except BaseException as error:
        if entered:
            # Queued behind any write still running, so the partial file goes only after it.
            failure = error
            worker.submit(lambda: report.__exit__(type(failure), failure, None))
        raise
    finally:
        worker.close()
    if progress:
        progress(report.rows)
    return report.rows


async def _copy_in_thread(
    worker: _FileWorker,
    report: CsvReport,
    database_file: Path,
    status: OrderStatus | None,
    pair: str | None,
    progress: Callable[[int], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def copy() -> None:
        for page in report_pages(database_file, status=status, pair=pair, chunk=_PAGE_ROWS):
            if stop.is_set():
                raise asyncio.CancelledError
            report.add_cells(page)
            if progress:
                loop.call_soon_threadsafe(progress, report.rows)

    try:
        await worker.submit(copy)
    finally:
        stop.set()


async def _copy_through_loop(
    worker: _FileWorker,
    report: CsvReport,
    store: OrderStore,
    status: OrderStatus | None,
    pair: str | None,
    progress: Callable[[int], None] | None,
) -> None:
    writing: asyncio.Future[Any] | None = None
    async for page in store.stream_report(status=status, pair=pair, chunk=_PAGE_ROWS):
        if writing is not None:
            await writing
            if progress:
                progress(report.rows)
        writing = worker.submit(functools.partial(report.add_cells, page))
    if writing is not None:
        await writing
