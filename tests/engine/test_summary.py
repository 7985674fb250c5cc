"""The summary is counted by the database and agrees with a plain recount of every stored order."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal

import asyncpg
import pytest

from app.bench.databases import finished_orders
from engine.model.domain import Direction, Order, OrderStatus
from engine.model.execution_figures import SettledFigures, notional, settled_figures
from engine.model.validation import validate_order
from engine.runtime.engine import engine_settings
from tests.conftest import _pg_dsn, running


async def test_summary_matches_a_recount_of_the_stored_orders(db_url: str) -> None:
    settings = engine_settings(time_scale=0, rate_limit=0, seed=11, failure_rate=0.6)
    async with running(db_url, settings) as engine:
        requests = [
            validate_order(pair, amount, side, engine.catalog)
            for pair, amount, side in [
                ("SOL-USDC", "1.5", "BUY"),
                ("SOL-USDC", "2", "SELL"),
                ("JUP-SOL", "40", "BUY"),
                ("JUP-USDC", "100", "SELL"),
            ]
            * 15
        ]
        await engine.submit_many(requests[:20])
        await engine.wait_idle()
        early = await engine.summary()  # settles the first 20: later counts only read what came after
        assert early.total.orders == 20
        await engine.submit_many(requests[20:])
        await engine.wait_idle()
        summary = await engine.summary()
        stored = [order for page in [await engine.orders_page(limit=1000)] for order in page]
        # Each with its log, so its terms (the price it was sent at) come from the order itself.
        whole = {order.id: await engine.order(order.id) for order in stored}

    assert summary.total.orders == len(stored) == 60
    confirmed = [order for order in stored if order.status is OrderStatus.CONFIRMED]
    failed = [order for order in stored if order.status is OrderStatus.FAILED]
    assert summary.total.confirmed == len(confirmed)
    assert summary.total.failed == len(failed)
    assert 0 < len(failed) < 60, "the seed makes some orders fail, so the test means something"
    assert summary.total.retried == sum(order.attempts > 1 for order in stored)

    def figures(order: Order) -> SettledFigures:
        assert order.execution_price is not None
        read = whole[order.id]
        assert read is not None
        assert read.terms.quoted_price is not None
        # Slippage against the price the order was sent at, as everywhere (docs/csv.md).
        quoted = read.terms.quoted_price
        return settled_figures(order.direction, order.amount, order.dex, order.execution_price, quoted)

    # The summary adds up the report's own figures (notional and fee to 8 places, slippage to 0.1 bps).
    for token in ("USDC", "SOL"):
        mine = [order for order in confirmed if order.pair.endswith(f"-{token}")]
        bought = sum((figures(o).notional or 0 for o in mine if o.direction is Direction.BUY), Decimal(0))
        sold = sum((figures(o).notional or 0 for o in mine if o.direction is Direction.SELL), Decimal(0))
        fees = sum((figures(o).fee or 0 for o in mine), Decimal(0))
        totals = summary.quote_tokens[token]
        assert float(totals.bought) == pytest.approx(float(bought), rel=1e-9)
        assert float(totals.sold) == pytest.approx(float(sold), rel=1e-9)
        assert float(totals.fees) == pytest.approx(float(fees), rel=1e-9)
        assert totals.bought > 0
        # And those are the exact figures to within their rounding.
        exact = sum((notional(o.amount, o.execution_price) or 0 for o in mine), Decimal(0))
        assert abs(totals.bought + totals.sold - exact) <= Decimal("0.000000005") * len(mine)
    assert summary.quote_tokens["USDC"].sold > 0, "sells are counted apart from buys"

    for venue, on_venue_figures in summary.venues.items():
        on_venue = [order for order in confirmed if str(order.dex) == venue]
        slips = [float(figures(o).slippage_bps or 0) for o in on_venue]
        assert on_venue_figures.confirmed == len(on_venue)
        assert on_venue_figures.average_slippage_bps == pytest.approx(sum(slips) / len(slips), abs=1e-9)
        seconds = sorted((o.updated_at - o.created_at).total_seconds() for o in on_venue)
        middle = len(seconds) // 2
        median = seconds[middle] if len(seconds) % 2 else (seconds[middle - 1] + seconds[middle]) / 2
        assert on_venue_figures.confirm_p50_s == pytest.approx(median, abs=0.002)

    per_pair = summary.pairs["SOL-USDC"]
    sol_usdc = [order for order in confirmed if order.pair == "SOL-USDC"]
    assert per_pair.volume == sum((order.amount for order in sol_usdc), Decimal(0))


async def test_an_empty_database_has_an_empty_summary(db_url: str) -> None:
    async with running(db_url) as engine:
        summary = await engine.summary()
    assert summary.total.orders == 0
    assert summary.pairs == {}
    assert summary.venues == {}


async def test_orders_are_counted_once_as_active_and_then_as_finished(db_url: str) -> None:
    """Stored finished (an insert) or finishing later (an update): the database adds each order to its totals once."""
    finished = finished_orders(6, seed=1)
    waiting = [
        replace(order, status=OrderStatus.PENDING, dex=None, execution_price=None, tx_hash=None, route=None)
        for order in finished_orders(4, seed=2)
    ]
    async with running(db_url) as engine:
        await engine.store.insert([*finished[:3], *waiting, *finished[3:]])
        early = await engine.summary()
        await engine.cancel(waiting[0].id)
        await engine.wait_idle()
        later = await engine.summary()
        again = await engine.summary()
        stored = await engine.store.list_orders()
    assert early.total.orders == 10
    assert early.total.confirmed == 6
    assert early.total.active == 4
    assert later == again
    assert later.total.orders == 10
    assert later.total.active == 3
    assert later.total.cancelled == 1
    assert later.total.confirmed == sum(order.status is OrderStatus.CONFIRMED for order in stored) == 6


async def test_the_median_time_to_confirmed_is_the_middle_order_or_the_mean_of_the_middle_two(db_url: str) -> None:
    orders = finished_orders(15, seed=4)  # alternating venues: 8 on one (an even count), 7 on the other
    took = orders[2].updated_at - orders[2].created_at
    orders[0] = replace(orders[0], updated_at=orders[0].created_at + took)  # two orders in one run of equal times
    async with running(db_url) as engine:
        await engine.store.insert(orders)
        summary = await engine.summary()
    for venue in {str(order.dex) for order in orders}:
        times = sorted(
            round((o.updated_at - o.created_at).total_seconds() * 1000) for o in orders if str(o.dex) == venue
        )
        middle = len(times) // 2
        expected = times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2
        assert summary.venues[venue].confirm_p50_s == pytest.approx(expected / 1000, abs=1e-9)


async def _run_sql(db_url: str, *statements: str) -> None:
    """Plain SQL from outside dexdesk's code, as a person fixing rows by hand would run it."""
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.split(":///", 1)[1]) as connection:
            for statement in statements:
                connection.execute(statement)
        return
    schema = db_url.rsplit("schema=", 1)[1]
    connection = await asyncpg.connect(_pg_dsn(), server_settings={"search_path": schema})
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def test_the_totals_follow_any_write_to_a_finished_row(db_url: str) -> None:
    """The engine never changes a finished order, but the totals stay a count of the rows whoever writes them."""
    orders = finished_orders(4, seed=6)
    async with running(db_url) as engine:
        await engine.store.insert(orders)
        await _run_sql(
            db_url,
            f"UPDATE orders SET status = 'FAILED' WHERE id = '{orders[0].id}'",
            f"DELETE FROM order_logs WHERE order_id = '{orders[1].id}'",
            f"DELETE FROM orders WHERE id = '{orders[1].id}'",
        )
        summary = await engine.summary()
    kept = orders[2:]
    assert summary.total.orders == 3
    assert summary.total.failed == 1
    assert summary.total.confirmed == 2
    moved = sum((o.amount * o.execution_price for o in kept if o.execution_price is not None), Decimal(0))
    assert abs(summary.total.notional - moved) <= Decimal("0.00000001") * len(kept)
    assert sum(venue.confirmed for venue in summary.venues.values()) == 2


async def test_one_statement_that_ends_and_rewrites_many_orders_is_counted_once_each(db_url: str) -> None:
    """Statements that end or rewrite many finished rows at once still leave a count of the stored rows."""
    orders = finished_orders(6, seed=8)
    async with running(db_url) as engine:
        await engine.store.insert(orders)
        ids = ", ".join(f"'{order.id}'" for order in orders)
        first_three = ", ".join(f"'{order.id}'" for order in orders[:3])
        await _run_sql(
            db_url,
            # Three finished orders become FAILED in one statement; then every row is rewritten unchanged.
            f"UPDATE orders SET status = 'FAILED' WHERE id IN ({first_three})",
            f"UPDATE orders SET status = status WHERE id IN ({ids})",
        )
        summary = await engine.summary()
    assert summary.total.orders == 6
    assert summary.total.failed == sum(o.status is OrderStatus.FAILED for o in orders) + sum(
        o.status is not OrderStatus.FAILED for o in orders[:3]
    )
    assert summary.total.confirmed == sum(o.status is OrderStatus.CONFIRMED for o in orders[3:])
