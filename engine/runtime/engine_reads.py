"""The engine's read side: stored orders, reports, the paper account and quotes, for every front end.

Each read goes to the store (or the router, for a quote and the market's time) and changes
nothing the engine runs: the desk, the CLI and the API all read through here, never the store.
`Engine` is the one class that has these; they live apart to keep engine.py about commands and
the orders it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from engine.account.market import ORDERS, WALL, AccountMarket, start_marks
from engine.account.model import parse_balances
from engine.account.paper_marks import account_view
from engine.account.view import AccountView
from engine.model.clock import Clock
from engine.model.domain import Direction, Order, OrderStatus
from engine.reporting.reports import export_csv
from engine.reporting.summary import OrderSummary, build_summary
from engine.runtime.engine_config import EngineSettings, StorageHealth
from engine.runtime.pipeline import Transitions
from engine.storage import OrderStore
from engine.storage.history_rows import read_history_page
from engine.storage.report_reader import sqlite_file
from engine.storage.summary import SummaryCounter
from engine.trading.pairs import PairCatalog
from engine.trading.router import Router, RoutingDecision


class EngineReads:
    # Set by Engine.__init__.
    settings: EngineSettings
    store: OrderStore
    catalog: PairCatalog
    router: Router
    _transitions: Transitions
    clock: Clock
    _summary_counter: SummaryCounter
    _last_seq: int

    @property
    def seed(self) -> int:
        return self.settings.router.seed

    def storage_health(self) -> StorageHealth:
        return StorageHealth(self.store.dialect, self.store.display_url, self.store.last_error)

    async def order(self, order_id: str) -> Order | None:
        """One stored order with its whole log."""
        return await self.store.get(order_id)

    async def orders_page(
        self,
        *,
        limit: int,
        before_seq: int | None = None,
        status: OrderStatus | None = None,
        pair: str | None = None,
        user_label: str | None = None,
    ) -> list[Order]:
        """A page of stored orders without logs, newest first, older than `before_seq` when given."""
        return await self.store.list_orders(
            status=status, pair=pair, limit=limit, before_seq=before_seq, user_label=user_label
        )

    async def history_page(self, *, limit: int, before_seq: int | None = None) -> list[Order]:
        """`orders_page` for the desk's history load: the same snapshots, read off the loop (on SQLite
        straight from the file in a worker thread, see engine/storage/history_rows.py)."""
        database_file = sqlite_file(self.store.url)
        if database_file is None:
            return await self.store.list_orders(limit=limit, before_seq=before_seq)
        return await asyncio.to_thread(read_history_page, database_file, limit=limit, before_seq=before_seq)

    async def summary(self) -> OrderSummary:
        """Counts, notional, fees, slippage, retries and time to CONFIRMED over every stored order,
        aggregated by the database (a few dozen group rows come back, whatever the number of orders)."""
        return build_summary(await self.store.summary_rows(self._summary_counter), self.catalog)

    async def counts_by_status(self) -> dict[OrderStatus, int]:
        return await self.store.counts_by_status()

    async def export_csv(
        self,
        path: Path,
        *,
        status: OrderStatus | None = None,
        pair: str | None = None,
        progress: Callable[[int], None] | None = None,
        bom: bool = True,
    ) -> int:
        """The CSV report of every stored order that matches, streamed from storage (`bom=False`: plain UTF-8)."""
        return await export_csv(self.store, path, status=status, pair=pair, progress=progress, bom=bom)

    def indicative_quote(
        self, pair: str, amount: Decimal, direction: Direction, slippage: Decimal | None = None
    ) -> RoutingDecision:
        """What a market order sent now gets: the venue it routes to and the price, before the market moves.

        Send it with `OrderRequest.quoted_price` = the chosen effective price, and the order is
        bound to this quote widened by `slippage` (the router's tolerance when None).
        """
        return self.router.indicative(pair, amount, direction, self._last_seq + 1, slippage)

    def market_time(self) -> float:
        """The market's time now (engine/trading/market.py), for charts that sample it."""
        return self.router.market.now(self._last_seq + 1)

    async def account(self) -> AccountView | None:
        """The paper account (balances, positions, PnL marked in its own market now), or None if not started."""
        return await account_view(self.store, self.catalog, self.clock, self.clock.utc_now(), self._last_seq + 1)

    async def reset_account(self, balances: dict[str, Decimal] | str) -> None:
        """Start the paper account over (`"USDC=10000,SOL=10"` or a dict); bad text raises InvalidOrder.

        The account keeps this engine's market (its seed and time base) and each starting token's
        mark now, its cost basis (engine/account/market.py).
        """
        parsed = parse_balances(balances) if isinstance(balances, str) else balances
        market = self.router.market
        base = ORDERS if self.clock.time_scale <= 0 else WALL
        account_market = AccountMarket(market.seed, base)
        at = account_market.market_time(self.clock.utc_now(), self._last_seq + 1)
        account_market = AccountMarket(market.seed, base, start_marks(parsed, self.catalog, market, at))
        await self.store.reset_account(parsed, self._transitions.now(), account_market.to_meta())

    async def ensure_account(self, start: str) -> bool:
        """Start the paper account with `start` if there is none yet; True if it was started now."""
        if await self.store.read_account() is not None:
            return False
        await self.reset_account(start)
        return True
