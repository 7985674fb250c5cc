"""The paper account as the engine shows it: stored balances and fills, marked in the account's own market.

The mark is the pair's reference price in the market the account trades in (its seed and time
base, stored at `account reset`; engine/account/market.py), never the reading command's: the
same account reads the same whatever `--seed` or `--time-scale` a command is given.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.account.market import AccountMarket, reference_mark
from engine.account.view import AccountView, build_view
from engine.model.clock import Clock
from engine.storage import OrderStore
from engine.trading.market import Market
from engine.trading.pairs import PairCatalog


async def account_view(
    store: OrderStore, catalog: PairCatalog, clock: Clock, now: datetime, next_seq: int
) -> AccountView | None:
    """Balances, positions and PnL marked in the account's market now; None if no account was started.

    `now` is the wall clock (for an account on the wall-clock market), `next_seq` the number the
    next order would get (for one started at time scale 0, whose market moves per order).
    """
    found = await store.read_account()
    if found is None:
        return None
    started, balances, fills = found
    account_market = AccountMarket.from_meta(await store.read_account_meta())
    market = Market(account_market.seed, clock, catalog)
    at = account_market.market_time(now, next_seq)

    def mark(pair: str) -> Decimal | None:
        spec = catalog.get(pair)
        return None if spec is None else reference_mark(market, spec, at)

    return build_view(started, balances, fills, mark, account_market.start_marks)
