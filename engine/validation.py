"""Bad input is refused here, before an order exists, with messages naming the field and the rule."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from engine.domain import Direction, LogEntry, Order, OrderStatus, new_order_id
from engine.jsonfmt import format_decimal
from engine.log_kinds import LogKind
from engine.pairs import PairCatalog

# ASCII digits only: Decimal() would happily read Arabic-Indic or full-width digits.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_MAX_INPUT_LENGTH = 64


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class InvalidOrder(ValueError):
    """Raised for input that must not become an order; `errors` holds one entry per bad field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))

    def for_field(self, field: str) -> str | None:
        return next((error.rule for error in self.errors if error.field == field), None)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """Input that passed every rule: the only thing the engine accepts as a new order."""

    pair: str
    amount: Decimal
    direction: Direction
    # Chosen before the first attempt to store the order, so a retried store (or submit) finds
    # the order it already made instead of making a second one; callers may pass their own.
    order_id: str = field(default_factory=new_order_id)

    def to_order(self, now: datetime) -> Order:
        """The new PENDING order, with the log line every order starts with; the store assigns `seq`."""
        received = LogEntry(
            now,
            OrderStatus.PENDING,
            LogKind.RECEIVED,
            f"order received: {self.direction} {self.amount} {self.pair}; queued",
            {"pair": self.pair, "direction": str(self.direction), "amount": self.amount},
        )
        return Order(
            id=self.order_id,
            seq=0,
            pair=self.pair,
            direction=self.direction,
            amount=self.amount,
            status=OrderStatus.PENDING,
            created_at=now,
            updated_at=now,
            logs=(received,),
        )


def validate_pair(raw: object, catalog: PairCatalog) -> str | FieldError:
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return FieldError("pair", "is required, e.g. SOL-USDC")
    name = text.upper()
    if not name.isascii() or catalog.get(name) is None:
        listed = ", ".join(catalog.names)
        return FieldError("pair", f"must be one of the listed pairs ({listed})")
    return name


def validate_direction(raw: object) -> Direction | FieldError:
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return FieldError("direction", "is required: BUY or SELL")
    if not text.isascii() or text.upper() not in Direction.__members__:
        return FieldError("direction", "must be BUY or SELL")
    return Direction(text.upper())


def parse_amount(raw: object) -> Decimal | FieldError:
    """Read an amount written as a plain decimal; floats and ints are accepted as their text."""
    if isinstance(raw, bool):
        return FieldError("amount", "must be a decimal number, e.g. 10.5")
    if isinstance(raw, float):
        if math.isnan(raw):
            return FieldError("amount", "must be a number, not NaN")
        if math.isinf(raw):
            return FieldError("amount", "must be finite")
        raw = repr(raw)
    if isinstance(raw, int | Decimal):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        return FieldError("amount", "is required")
    text = raw.strip()
    lowered = text.lower().lstrip("+-")
    if lowered in ("nan", "snan"):
        return FieldError("amount", "must be a number, not NaN")
    if lowered in ("inf", "infinity"):
        return FieldError("amount", "must be finite")
    if text.startswith("-"):
        return FieldError("amount", "must be greater than 0")
    if len(text) > _MAX_INPUT_LENGTH:
        return FieldError("amount", f"must be at most {_MAX_INPUT_LENGTH} characters")
    if not _PLAIN_DECIMAL.fullmatch(text.removeprefix("+")):
        return FieldError("amount", "must be a plain decimal number like 10.5 (digits and one point)")
    try:
        return Decimal(text)
    except InvalidOperation:
        return FieldError("amount", "must be a plain decimal number like 10.5 (digits and one point)")


def validate_order(pair: object, amount: object, direction: object, catalog: PairCatalog) -> OrderRequest:
    """Check all three fields and report every bad one at once, as a form would."""
    errors: list[FieldError] = []
    pair_result = validate_pair(pair, catalog)
    direction_result = validate_direction(direction)
    amount_result = parse_amount(amount)
    if isinstance(pair_result, FieldError):
        errors.append(pair_result)
    if isinstance(amount_result, FieldError):
        errors.append(amount_result)
    elif amount_result <= 0:
        errors.append(FieldError("amount", "must be greater than 0"))
    elif isinstance(pair_result, str):
        limit_error = _check_pair_limits(amount_result, pair_result, catalog)
        if limit_error:
            errors.append(limit_error)
    if isinstance(direction_result, FieldError):
        errors.append(direction_result)
    if errors:
        raise InvalidOrder(errors)
    assert isinstance(pair_result, str)
    assert isinstance(amount_result, Decimal)
    assert isinstance(direction_result, Direction)
    # Stored as written, less trailing zeros: 10.50 and 10.5 are the same order.
    return OrderRequest(pair_result, Decimal(format_decimal(amount_result)), direction_result)


def _check_pair_limits(amount: Decimal, pair: str, catalog: PairCatalog) -> FieldError | None:
    spec = catalog[pair]
    exponent = amount.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    if places > spec.decimals:
        unit = "decimal place" if spec.decimals == 1 else "decimal places"
        rule = f"at most {spec.decimals} {unit} for {pair}" if spec.decimals else f"must be a whole number for {pair}"
        return FieldError("amount", rule)
    if amount < spec.min_amount:
        return FieldError("amount", f"must be at least {spec.min_amount} {spec.base}")
    if amount > spec.max_amount:
        return FieldError("amount", f"must be at most {spec.max_amount} {spec.base}")
    return None
