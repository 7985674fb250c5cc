"""The quote you see is the quote you get: 1,000 orders sent at once from the ticket's quote."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from engine.model.domain import OrderStatus
from engine.model.log_kinds import LogKind
from engine.runtime.engine import Engine, engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.engine.virtual import Timeline, on_virtual_time

TOLERANCE = Decimal("0.01")


def test_a_thousand_orders_sent_from_the_ticket_quote_route_there_and_land_within_tolerance(sqlite_url: str) -> None:
    requests = random_requests(default_catalog(), 1000, seed=12)
    settings = engine_settings(time_scale=1, concurrency=1000, rate_limit=0, seed=77, failure_rate=0)

    async def scenario(engine: Engine, _timeline: Timeline) -> list[tuple[object, ...]]:
        quoted = []
        for request in requests:
            decision = engine.indicative_quote(request.pair, request.amount, request.direction, TOLERANCE)
            quoted.append((decision.chosen.venue, decision.chosen.effective_price))
        sent = [
            replace(request, slippage=TOLERANCE, quoted_price=price)
            for request, (_venue, price) in zip(requests, quoted, strict=True)
        ]
        orders = await engine.submit_many(sent)
        await engine.wait_idle()
        rows = []
        for order, (venue, price) in zip(orders, quoted, strict=True):
            stored = await engine.order(order.id)
            assert stored is not None
            started = next(entry.timestamp for entry in stored.logs if entry.kind == LogKind.ATTEMPT_STARTED)
            rows.append((stored, venue, price, started - stored.created_at))
        return rows

    rows = on_virtual_time(sqlite_url, settings, scenario)
    same_venue = sum(1 for order, venue, _price, _wait in rows if order.dex == venue)  # type: ignore[attr-defined]
    assert same_venue / len(rows) >= 0.99
    quick = [row for row in rows if row[3] < timedelta(seconds=1)]
    assert len(quick) == len(rows)  # 1,000 slots: every order started at once
    for order, _venue, price, _wait in quick:
        assert order.status is OrderStatus.CONFIRMED, order.error  # type: ignore[attr-defined]
        assert isinstance(price, Decimal)
        moved = abs(order.execution_price - price) / price  # type: ignore[attr-defined]
        assert moved <= TOLERANCE
