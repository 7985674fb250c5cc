"""What the order ticket says, apart from its widgets: amounts read the engine's way, rules in the ticket's words.

Pure functions over the engine's own types (no Qt), so the ticket (ui/ticket.py) keeps to its
widgets and their signals, and what it says about an order or a bad field is decided in one place.
"""

from __future__ import annotations

import re

from engine.model.domain import Direction
from engine.model.validation import InvalidOrder, OrderRequest
from engine.trading.pairs import PairSpec
from ui.formatting import group_decimal

# "1,000" and "12,345.5" as the desk itself prints amounts; a comma anywhere else stays the engine's error.
_GROUPED_AMOUNT = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
# A rule is said under the field with the field's name as the ticket labels it, not the API's ("limitPrice").
_LABELS = {"pair": "Pair", "amount": "Amount", "limitPrice": "Limit price", "expiresIn": "Expires in"}

FieldRule = tuple[str, str | None]  # a field's name (the engine's) and its broken rule, or None


def ungrouped(text: str) -> str:
    """An amount typed with the desk's own thousands separators, as the engine reads it.

    Spaces are left in: the one validator refuses a number with spaces around it on the desk, the
    command line and the API alike, so the same text never means an order in one and an error in another.
    """
    return text.replace(",", "") if _GROUPED_AMOUNT.fullmatch(text) else text


def rule_line(field: str, rule: str | None) -> str:
    """The line under a field: its label and the rule it breaks ("" when it breaks none)."""
    return f"{_LABELS.get(field, field)}: {rule}" if rule else ""


def problem_line(problem: InvalidOrder | None) -> str:
    """Every rule the engine refused at submit, in one line ("" for none)."""
    return "; ".join(f"{_LABELS.get(e.field, e.field)}: {e.rule}" for e in problem.errors) if problem else ""


def field_rules(
    problem: InvalidOrder | None, *, include_missing_amount: bool = True, include_pair: bool = True
) -> tuple[FieldRule, FieldRule, FieldRule]:
    """The rules to show under the pair, the amount and the limit terms, in that order.

    While the trader types, an amount or limit price not typed yet is not an error, nor is a pair
    still being typed: the caller leaves those out until Enter (or leaving the pair box).
    """
    pair_rule = problem.for_field("pair") if problem and include_pair else None
    amount_rule = problem.for_field("amount") if problem else None
    limit_rule = (problem.for_field("limitPrice") or problem.for_field("expiresIn")) if problem else None
    limit_field = "limitPrice" if problem and problem.for_field("limitPrice") else "expiresIn"
    if amount_rule == "is required" and not include_missing_amount:
        amount_rule = None
    if limit_rule == "is required for a limit order" and not include_missing_amount:
        limit_rule = None
    return ("pair", pair_rule), ("amount", amount_rule), (limit_field, limit_rule)


def amount_words(request: OrderRequest, spec: PairSpec) -> str:
    """A valid amount as the desk prints it: grouped, with the places typed (at most the pair's)."""
    places = max(0, -int(request.amount.as_tuple().exponent))
    return group_decimal(request.amount, min(places, spec.decimals))


def size_hint(spec: PairSpec) -> str:
    """The pair's bounds under the amount: "min 0.01 · max 10,000 · 2 decimals"."""
    places = f"{spec.decimals} decimal{'s' if spec.decimals != 1 else ''}" if spec.decimals else "whole units"
    return f"min {spec.min_amount:,f} · max {spec.max_amount:,f} · {places}"


def submit_words(side: Direction, *, amount: str, base: str, limit: bool, price: str) -> str:
    """The submit button's text: "Buy 1,000 SOL", "Limit Sell 2 JUP at 0.91" (only valid amounts are echoed)."""
    side_word = "Buy" if side is Direction.BUY else "Sell"
    at = f" at {price}" if limit and price else ""
    kind = "Limit " if limit else ""
    text = f"{kind}{side_word} {amount} {base}{at}".replace("  ", " ").strip()
    return text[0].upper() + text[1:] if text else text
