"""Packed rows give back exactly the orders they were made of, and keep a finished order small.

The board, the blotter and the chart keep history as columns (ui/order_rows.py) and build an `Order`
only for a row on screen, a copy or a dialog: that `Order` must be the stored one, field for field.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model.domain import Direction, OrderStatus, OrderTerms, OrderType, Route, RouteLeg, Venue
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.ui.conftest import Desk
from tests.ui.test_board import make_order
from ui.decimal_texts import decimal_column
from ui.order_rows import DecimalColumn, OrderRows

SIGNATURE = "5J7K8L9MnPqRsTuVwXyZ" * 4 + "abcdefgh"


def test_every_kind_of_order_comes_back_exactly() -> None:
    start = datetime(2025, 12, 12, 10, 0, 0, 123456, tzinfo=UTC)
    confirmed = make_order(
        1,
        status=OrderStatus.CONFIRMED,
        amount=Decimal("10.5000"),
        execution_price=Decimal("148.93124411"),
        dex=Venue.METEORA,
        tx_hash=SIGNATURE,
        attempts=2,
        error=None,
        created_at=start,
        updated_at=start + timedelta(seconds=3, microseconds=7),
        route=Route(Venue.METEORA, Decimal("148.9"), SIGNATURE, 12.5),
        terms=OrderTerms(quoted_price=Decimal("148.90")),
        version=6,
        owner="host:1:desk",
        user_label="alice",
        request_key="k1",
    )
    split = replace(
        confirmed,
        id="00000002-0000-4000-8000-000000000000",
        seq=2,
        route=Route(
            Venue.RAYDIUM,
            Decimal("1.1"),
            "other",
            None,
            (
                RouteLeg(Venue.RAYDIUM, Decimal("1"), Decimal("1.1")),
                RouteLeg(Venue.METEORA, Decimal("2"), Decimal("1.2")),
            ),
        ),
    )
    limit = make_order(
        3,
        status=OrderStatus.FAILED,
        direction=Direction.SELL,
        error="price not reached before expiry",
        terms=OrderTerms(OrderType.LIMIT, price_bound=Decimal("150"), expires_at=start),
        retry_at=start,
        trigger_time=99.25,
    )
    huge = make_order(4, status=OrderStatus.CANCELLED, amount=Decimal("1234567890.1234567890123"))
    running = make_order(5, status=OrderStatus.ROUTING)
    orders = [confirmed, split, limit, huge, running]

    rows = OrderRows()
    rows.extend(orders[:2])
    chunk = OrderRows()
    chunk.extend(orders[2:])
    assert rows.absorb(chunk) == 2
    assert [rows.build(row) for row in range(len(rows))] == orders
    assert str(rows[0].amount) == "10.5000", "exponents kept"
    assert str(rows[0].terms.quoted_price) == "148.90"
    assert rows.state()["running"] == 1

    ended = replace(running, status=OrderStatus.CONFIRMED, execution_price=Decimal("2.5"), tx_hash=SIGNATURE)
    rows[4] = ended
    assert rows[4] == ended
    assert not rows.is_running(4)


def test_orders_a_real_engine_stored_come_back_exactly(desk: Desk) -> None:
    desk.run(desk.engine.submit_many(random_requests(default_catalog(), 80, seed=11)))
    desk.wait_idle()
    stored = desk.run(desk.engine.orders_page(limit=1000))
    assert len(stored) == 80
    rows = OrderRows()
    rows.extend(stored)
    assert [rows.build(row) for row in range(len(rows))] == stored


def test_a_finished_order_costs_a_few_hundred_bytes_not_kilobytes() -> None:
    count = 5000
    orders = [
        make_order(
            number,
            status=OrderStatus.CONFIRMED,
            amount=Decimal(number) / 100,
            execution_price=Decimal("148.9312") + Decimal(number) / 10_000,
            dex=Venue.RAYDIUM,
            tx_hash=f"{number:0>12}" + SIGNATURE[:76],
            route=Route(Venue.RAYDIUM, Decimal("148.9"), f"{number:0>12}" + SIGNATURE[:76], 1.0 + number),
            terms=OrderTerms(quoted_price=Decimal("148.9")),
        )
        for number in range(count)
    ]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rows = OrderRows()
    rows.extend(orders)
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # Beyond the id and hash strings the orders already had: the columns, under 200 bytes an order.
    assert kept / count < 200, kept / count
    assert rows.build(count - 1) == orders[-1]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.decimals(allow_nan=False, allow_infinity=False, places=None),
            st.builds(
                lambda digits, exponent: Decimal(digits).scaleb(exponent),
                st.integers(-(10**18) + 1, 10**18 - 1),
                st.integers(-30, 30),
            ),
        ),
        max_size=40,
    )
)
def test_the_floats_of_a_decimal_column_are_float_of_each_decimal(values: list[Decimal | None]) -> None:
    """The board's sort keys and the chart's points read a column's floats at once (numpy where both
    parts are exact doubles): each must be what float() of the Decimal gives, to the last bit."""
    column = DecimalColumn()
    for value in values:
        column.append(value)
    floats = column.floats(-1.5)
    assert [float(value) if value is not None else -1.5 for value in values] == floats.tolist()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str),
            st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{1,8})?", fullmatch=True),
            st.sampled_from(["1E-8", "-0.0", "0.0012", "123456789012345678", "1234567890123456789", "12.5e3"]),
        ),
        max_size=30,
    )
)
def test_a_column_of_decimal_texts_packs_as_each_decimal_would(texts: list[str | None]) -> None:
    """The desk splits a history page's decimal texts at once (ui/decimal_texts.py): each row must be
    what packing `Decimal(text)` gives, its exponent kept, and a decimal too long for 18 digits kept whole."""
    packed = decimal_column(texts)
    one_by_one = DecimalColumn()
    for text in texts:
        one_by_one.append(None if text is None else Decimal(text))
    assert list(packed.coefficients) == list(one_by_one.coefficients)
    assert list(packed.exponents) == list(one_by_one.exponents)
    assert packed.odd == one_by_one.odd


def test_texts_that_are_not_plain_decimals_are_read_by_the_decimal() -> None:
    """A text the array split does not take (an exponent, a sign, a bare point, other digits, too many
    digits) is what `Decimal` makes of it; one `Decimal` refuses is refused here too, as it would be
    when the order is read."""
    texts = ["1E-8", "+1", "1.", ".5", "١٢", "12345678901234567890.5", "7"]
    packed = decimal_column(texts)
    assert [packed.get(row) for row in range(len(texts))] == [Decimal(text) for text in texts]
    assert [packed.exponents[row] for row in range(4)] == [-8, 0, 0, -1]
    for broken in ("1-2", "--1", "", "1.2.3"):
        with pytest.raises(InvalidOperation):
            decimal_column(["1.5", broken])
