"""What the ticket says, without a window: amounts read the engine's way, rules in the ticket's words."""

from __future__ import annotations

import pytest

from engine.model.domain import Direction
from engine.model.validation import InvalidOrder, OrderRequest, validate_order
from engine.trading.pairs import default_catalog
from ui.ticket_words import amount_words, field_rules, problem_line, rule_line, size_hint, submit_words, ungrouped


def refused(pair: str, amount: str, **terms: str) -> InvalidOrder:
    with pytest.raises(InvalidOrder) as caught:
        validate_order(pair, amount, "BUY", default_catalog(), **terms)
    return caught.value


def test_the_desks_own_thousands_separators_are_read_and_nothing_else() -> None:
    assert ungrouped("1,000") == "1000"
    assert ungrouped("12,345.5") == "12345.5"
    assert ungrouped("1,00") == "1,00"  # not the desk's grouping: the engine's error says so
    assert ungrouped(" 1,000") == " 1,000"  # spaces stay: refused alike on the desk, the CLI and the API


def test_a_rule_not_yet_broken_by_typing_is_left_out_until_enter() -> None:
    problem = refused("SOL-USDC", "", order_type="LIMIT")
    typing = field_rules(problem, include_missing_amount=False)
    assert typing == (("pair", None), ("amount", None), ("limitPrice", None))
    entered = dict(field_rules(problem))
    assert entered["amount"] == "is required"
    assert rule_line("limitPrice", entered["limitPrice"]) == "Limit price: is required for a limit order"
    assert rule_line("amount", None) == ""


def test_a_refusal_names_each_field_with_the_tickets_label() -> None:
    problem = refused("NOPE-USDC", "abc")
    line = problem_line(problem)
    assert line.startswith("Pair: ")
    assert "; Amount: " in line
    assert problem_line(None) == ""


def test_amounts_and_the_submit_button_read_as_the_desk_prints_them() -> None:
    catalog = default_catalog()
    request = validate_order("SOL-USDC", "1234.25", "SELL", catalog)
    assert isinstance(request, OrderRequest)
    amount = amount_words(request, catalog["SOL-USDC"])
    assert amount == "1,234.25"
    assert submit_words(Direction.SELL, amount=amount, base="SOL", limit=False, price="") == "Sell 1,234.25 SOL"
    assert submit_words(Direction.BUY, amount="2", base="JUP", limit=True, price="0.91") == "Limit Buy 2 JUP at 0.91"
    assert submit_words(Direction.BUY, amount="", base="", limit=False, price="") == "Buy"
    assert size_hint(catalog["JUP-USDC"]) == "min 1 · max 5,000,000 · 2 decimals"
