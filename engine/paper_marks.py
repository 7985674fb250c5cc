"""The paper account as the engine shows it: stored balances and fills, marked to the market now."""

from __future__ import annotations

from decimal import Decimal

from engine.account.view import AccountView, build_view
from engine.pairs import PairCatalog
from engine.router import Router
from engine.storage import OrderStore


async def account_view(store: OrderStore, catalog: PairCatalog, router: Router, at: float) -> AccountView | None:
    """Balances, positions and PnL marked to each pair's reference at market time `at`; None if not started."""
    found = await store.read_account()
    if found is None:
        return None
    started, balances, fills = found
    places = {spec.pair: Decimal(1).scaleb(-spec.price_decimals) for spec in catalog}

    def mark(pair: str) -> Decimal | None:
        spec = catalog.get(pair)
        if spec is None:
            return None
        return Decimal(repr(router.market.reference(spec, at))).quantize(places[pair])

    return build_view(started, balances, fills, mark)
