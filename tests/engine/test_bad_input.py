"""Each kind of bad input named in the issue: refused with field and rule, the database unchanged."""

from __future__ import annotations

import pytest

from engine.model.validation import InvalidOrder
from tests.conftest import running

CASES = [
    ("SOL-USDC", "0", "BUY", "amount: must be greater than 0"),
    ("SOL-USDC", "-3", "BUY", "amount: must be greater than 0"),
    ("SOL-USDC", "NaN", "BUY", "amount: must be a number, not NaN"),
    ("SOL-USDC", "Infinity", "SELL", "amount: must be finite"),
    ("SOL-USDC", float("inf"), "SELL", "amount: must be finite"),
    ("SOL-USDC", "1.12345", "BUY", "amount: at most 4 decimal places for SOL-USDC"),
    ("BONK-USDC", "20000.5", "BUY", "amount: must be a whole number for BONK-USDC"),
    ("DOGE-USDC", "1", "BUY", "pair: must be one of the listed pairs"),
    ("SOL-USDC", "1", "HOLD", "direction: must be BUY or SELL"),
    ("", "1", "BUY", "pair: is required"),
    ("SOL-USDC", "", "BUY", "amount: is required"),
    ("SOL-USDC", "1", "", "direction: is required"),
    ("SOL-USDC", "1" + "0" * 30, "BUY", "amount: must be at most 50000 SOL"),
    ("SOL-USDC", "0.0001", "BUY", "amount: must be at least 0.001 SOL"),
]


@pytest.mark.parametrize(("pair", "amount", "direction", "message"), CASES)
async def test_bad_input_is_refused_and_nothing_is_stored(
    db_url: str, pair: str, amount: object, direction: str, message: str
) -> None:
    updates: list[object] = []
    async with running(db_url) as engine:
        engine.subscribe(updates.append)
        with pytest.raises(InvalidOrder) as refused:
            await engine.submit(pair, amount, direction)
        stored = await engine.store.list_orders()
    assert str(refused.value).startswith(message)
    assert stored == []
    assert updates == [], "nothing may be announced for a refused order"
    assert engine.stats().waiting == 0


async def test_pair_and_direction_are_case_insensitive_and_stored_upper_case(db_url: str) -> None:
    async with running(db_url) as engine:
        order = await engine.submit("  sol-usdc ", "10.50", "sElL")
        stored = await engine.store.get(order.id)
    assert stored is not None
    assert (stored.pair, str(stored.direction), str(stored.amount)) == ("SOL-USDC", "SELL", "10.5")


def test_every_bad_field_is_reported_at_once() -> None:
    from engine.model.validation import validate_order
    from engine.trading.pairs import default_catalog

    with pytest.raises(InvalidOrder) as refused:
        validate_order("XYZ", "abc", "up", default_catalog())
    assert [error.field for error in refused.value.errors] == ["pair", "amount", "direction"]
