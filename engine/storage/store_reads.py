"""The store's reads: orders, pages and streams of them, the report's cells, the account, the counts.

`OrderStore` is the one class that has these; they live apart to keep store.py about opening,
writing and keeping the database. Each read is one transaction through `transaction()`, so a
locked SQLite file or a dropped PostgreSQL connection is waited out like any write.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.account.model import Balance, Fill
from engine.model.domain import Order, OrderStatus
from engine.storage import account_store, reads
from engine.storage.report_reader import REPORT_COLUMNS
from engine.storage.rows import report_cells
from engine.storage.schema import ExactDecimal, UtcTimestamp, orders
from engine.storage.summary import SummaryCounter, SummaryRows

T = TypeVar("T")


class StoreReads(ABC):
    # Set by OrderStore.
    dialect: str

    @abstractmethod
    async def transaction(self, work: Callable[..., Awaitable[T]], *args: Any) -> T:
        """`OrderStore.transaction`: run `work(connection, *args)` in one transaction, retried as the store does."""

    async def read_account(self) -> tuple[datetime, list[Balance], list[Fill]] | None:
        """The paper account's start, balances and fills, or None if none was started."""

        async def work(connection: AsyncConnection) -> tuple[datetime, list[Balance], list[Fill]] | None:
            return await account_store.read_account(connection)

        return await self.transaction(work)

    async def read_account_meta(self) -> dict[str, str]:
        """The paper account's stored facts: its start and its market (engine/account/market.py)."""
        return await self.transaction(account_store.read_account_meta)

    async def get(self, order_id: str) -> Order | None:
        """One stored order with its whole log."""
        return await self.transaction(reads.get, order_id)

    async def find_by_prefix(self, prefix: str) -> list[str]:
        """Order ids starting with `prefix`, so people can type the short id the board shows."""
        return await self.transaction(reads.find_by_prefix, prefix)

    async def list_orders(
        self,
        *,
        status: OrderStatus | None = None,
        pair: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
        before_seq: int | None = None,
        user_label: str | None = None,
    ) -> list[Order]:
        """Orders without their logs (a board or a list never needs thousands of log lines).

        `before_seq` pages back through history (the desk loads the newest page first, then older ones).
        """
        query = reads.page_query(status, pair, limit, newest_first, before_seq, user_label)
        return await self.transaction(reads.orders_page, query, limit)

    async def stream(
        self, *, status: OrderStatus | None = None, pair: str | None = None, chunk: int = 5000
    ) -> AsyncIterator[list[Order]]:
        """Orders oldest first in chunks, for exports that must not hold a whole database in memory."""
        last_seq = 0
        while True:
            page = await self.transaction(reads.orders_after, status, pair, last_seq, chunk)
            if not page:
                return
            yield page
            last_seq = page[-1].seq

    async def stream_report(
        self, *, status: OrderStatus | None = None, pair: str | None = None, chunk: int = 20000
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The CSV report's cells, oldest first in chunks, without building an Order per row.

        Columns in the report's order (id, createdAt, updatedAt, pair, direction, amount, status,
        dex, executionPrice, txHash, attempts, error), then the added columns stored when the
        order was CONFIRMED (quotedPrice, slippageBps, notional, fee). SQLite already stores decimals and
        timestamps as the contract's text, so they come back as that text, untouched; PostgreSQL
        gives Decimal and datetime, which `report_cells` turns into the same text.
        """
        last_seq = 0
        while True:
            query = reads.filtered(select(orders.c.seq, *_REPORT_COLUMNS), status, pair).where(orders.c.seq > last_seq)
            query = query.order_by(orders.c.seq).limit(chunk)

            async def work(connection: AsyncConnection, query: Any = query) -> Sequence[Row[Any]]:
                return (await connection.execute(query)).all()

            page = await self.transaction(work)
            if not page:
                return
            last_seq = page[-1][0]
            yield [row[1:] for row in page] if self.dialect == "sqlite" else [report_cells(row[1:]) for row in page]

    async def max_seq(self) -> int:
        """The highest order sequence stored (0 for an empty database)."""
        return await self.transaction(reads.max_seq)

    async def counts_by_status(self) -> dict[OrderStatus, int]:
        return await self.transaction(reads.counts_by_status)

    async def summary_rows(self, counter: SummaryCounter) -> SummaryRows:
        """The summary's grouped aggregates over every stored order (see `engine.storage.summary`)."""

        async def work(connection: AsyncConnection) -> SummaryRows:
            return await counter.count(connection, self.dialect)

        result: SummaryRows = await self.transaction(work)
        return result

    async def executions(self) -> dict[str, int]:
        """Executions per order id from the mock chain's ledger (a proof of 'never executed twice')."""
        return await self.transaction(reads.executions)


# Stored text read as text: no parsing into datetime/Decimal only to format it back for the report.
_REPORT_COLUMNS = tuple(
    type_coerce(orders.c[name], String())
    if isinstance(orders.c[name].type, ExactDecimal | UtcTimestamp)
    else orders.c[name]
    for name in REPORT_COLUMNS
)
