"""Bad input is refused here, before an order exists, with messages naming the field and the rule."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from engine.model.domain import Direction, LogEntry, Order, OrderStatus, OrderTerms, OrderType, new_order_id
from engine.model.jsonfmt import format_decimal
from engine.model.log_kinds import LogKind
from engine.trading.pairs import PairCatalog, PairSpec

# ASCII digits only: Decimal() would happily read Arabic-Indic or full-width digits.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_MAX_INPUT_LENGTH = 64
MAX_NUMBER_TEXT = _MAX_INPUT_LENGTH
MAX_EXPIRY_S = Decimal(365 * 86400)
MAX_SLIPPAGE = Decimal("0.5")


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
    # A limit order waits for its price; a market order is bound by the quote it was sent from.
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    expires_in_s: float | None = None
    slippage: Decimal | None = None
    # The effective price the trader was shown (the ticket's quote); the engine quotes if absent.
    quoted_price: Decimal | None = field(default=None, compare=False)
    # A client's label (the API's `userId`), and the API request's fingerprint under an Idempotency-Key.
    user_label: str | None = None
    request_key: str | None = None

    def terms(self, now: datetime, quoted_price: Decimal | None, price_bound: Decimal | None) -> OrderTerms:
        expires = now + timedelta(seconds=self.expires_in_s) if self.expires_in_s is not None else None
        if self.order_type is OrderType.LIMIT:
            return OrderTerms(OrderType.LIMIT, self.limit_price, quoted_price, None, expires)
        return OrderTerms(OrderType.MARKET, price_bound, quoted_price, self.slippage, None)

    def to_order(self, now: datetime, terms: OrderTerms | None = None) -> Order:
        """The new PENDING order, with the log line every order starts with; the store assigns `seq`."""
        terms = terms or OrderTerms()
        data = {"pair": self.pair, "direction": str(self.direction), "amount": self.amount, "terms": terms.to_json()}
        if terms.type is OrderType.LIMIT:
            until = f" (expires {format_expiry(terms.expires_at)})" if terms.expires_at else ""
            better = "at or below" if self.direction is Direction.BUY else "at or above"
            text = (
                f"order received: limit {self.direction} {self.amount} {self.pair}, "
                f"waiting until the best price is {better} {terms.price_bound}{until}"
            )
        else:
            text = f"order received: {self.direction} {self.amount} {self.pair}; queued"
        received = LogEntry(now, OrderStatus.PENDING, LogKind.RECEIVED, text, data)
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
            terms=terms,
            user_label=self.user_label,
            request_key=self.request_key,
        )


def format_expiry(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


def validate_pair(raw: object, catalog: PairCatalog) -> str | FieldError:
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return FieldError("pair", "is required, e.g. SOL-USDC")
    listed = ", ".join(catalog.names)
    # ASCII first: str.upper() folds look-alikes ('ſ' U+017F becomes 'S'), so 'ſol-usdc' would pass.
    if not text.isascii():
        normalized = unicodedata.normalize("NFKC", text)
        if normalized.isascii() and catalog.get(normalized.upper()) is not None:
            return FieldError("pair", f"uses characters that only look like {normalized.upper()}; type it in ASCII")
        return FieldError("pair", f"must be one of the listed pairs, in ASCII ({listed})")
    name = text.upper()
    if catalog.get(name) is None:
        tokens = name.split("-")
        if len(tokens) == 2 and catalog.hop_pair(tokens[0], tokens[1]) is not None:
            return FieldError("pair", f"is listed the other way round: trade it as {tokens[1]}-{tokens[0]}")
        return FieldError(
            "pair",
            f"must be one of the listed pairs ({listed}) or two listed tokens the router joins through a third, "
            "e.g. SOL-RAY",
        )
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
    if isinstance(raw, Decimal):  # a JSON number, read exactly (exponents such as 1e-5 included)
        if raw.is_nan():
            return FieldError("amount", "must be a number, not NaN")
        if not raw.is_finite():
            return FieldError("amount", "must be finite")
        return raw
    if isinstance(raw, int):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        return FieldError("amount", "is required")
    text = raw
    if text != text.strip():
        # Refused, not stripped: the CLI, the desk and the API read " 1" alike, as a malformed number.
        return FieldError("amount", "must be a plain decimal number like 10.5, without spaces around it")
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


def validate_order(
    pair: object,
    amount: object,
    direction: object,
    catalog: PairCatalog,
    *,
    order_type: object = None,
    limit_price: object = None,
    expires_in: object = None,
    slippage: object = None,
) -> OrderRequest:
    """Check every field and report every bad one at once, as a form would.

    `order_type` is "market" (the default) or "limit"; a limit order needs `limit_price` (QUOTE
    per BASE) and may have `expires_in` (seconds). `slippage` is a fraction (0.01 = 1 %).
    """
    errors: list[FieldError] = []
    extras = _validate_terms(order_type, limit_price, expires_in, slippage, errors)
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
    elif not errors and isinstance(pair_result, str) and isinstance(amount_result, Decimal):
        depth_error = _check_depth(amount_result, direction_result, catalog[pair_result])
        if depth_error:
            errors.append(depth_error)
    if isinstance(pair_result, str) and extras.order_type is OrderType.LIMIT and not catalog[pair_result].listed:
        errors.append(
            FieldError("type", f"limit orders need a listed pair; {pair_result} is routed through another token")
        )
    if errors:
        raise InvalidOrder(errors)
    assert isinstance(pair_result, str)
    assert isinstance(amount_result, Decimal)
    assert isinstance(direction_result, Direction)
    # Stored as written, less trailing zeros: 10.50 and 10.5 are the same order.
    request = OrderRequest(pair_result, Decimal(format_decimal(amount_result)), direction_result)
    return _with_terms(request, extras, catalog)


@dataclass(frozen=True, slots=True)
class _Extras:
    order_type: OrderType
    limit_price: Decimal | None
    expires_in_s: float | None
    slippage: Decimal | None


def _validate_terms(
    order_type: object, limit_price: object, expires_in: object, slippage: object, errors: list[FieldError]
) -> _Extras:
    kind = OrderType.MARKET
    if order_type is not None and order_type != "":
        text = order_type.strip().lower() if isinstance(order_type, str) else ""
        if text not in OrderType.__members__.values():
            errors.append(FieldError("type", "must be market or limit"))
        else:
            kind = OrderType(text)
    price: Decimal | None = None
    if kind is OrderType.LIMIT:
        parsed = (
            parse_amount(limit_price)
            if limit_price not in (None, "")
            else FieldError("limitPrice", "is required for a limit order")
        )
        if isinstance(parsed, FieldError):
            errors.append(FieldError("limitPrice", parsed.rule))
        elif parsed <= 0:
            errors.append(FieldError("limitPrice", "must be greater than 0"))
        else:
            price = parsed
    elif limit_price not in (None, ""):
        errors.append(FieldError("limitPrice", "applies to limit orders only (type limit)"))
    expires: float | None = None
    if expires_in not in (None, ""):
        if kind is not OrderType.LIMIT:
            errors.append(FieldError("expiresIn", "applies to limit orders only (type limit)"))
        else:
            seconds = parse_amount(expires_in)
            if isinstance(seconds, FieldError) or not 0 < seconds <= MAX_EXPIRY_S:
                errors.append(FieldError("expiresIn", "must be a number of seconds between 0 and a year"))
            else:
                expires = float(seconds)
    tolerance: Decimal | None = None
    if slippage not in (None, ""):
        parsed_slippage = parse_amount(slippage)
        if isinstance(parsed_slippage, FieldError) or not 0 < parsed_slippage <= MAX_SLIPPAGE:
            errors.append(FieldError("slippage", "must be a fraction above 0 and at most 0.5 (0.01 = 1 %)"))
        else:
            tolerance = parsed_slippage
    return _Extras(kind, price, expires, tolerance)


def _with_terms(request: OrderRequest, extras: _Extras, catalog: PairCatalog) -> OrderRequest:
    price = extras.limit_price
    if price is not None:
        places = catalog[request.pair].price_decimals
        exponent = price.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise InvalidOrder([FieldError("limitPrice", f"at most {places} decimal places for {request.pair}")])
        price = Decimal(format_decimal(price))
    return OrderRequest(
        request.pair,
        request.amount,
        request.direction,
        order_type=extras.order_type,
        limit_price=price,
        expires_in_s=extras.expires_in_s,
        slippage=extras.slippage,
    )


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
    if spec.via and not any(via.min_amount <= amount <= via.max_amount for via in spec.via):
        ranges = ", ".join(f"{via.min_amount}-{via.max_amount} via {via.token}" for via in spec.via)
        return FieldError("amount", f"no intermediate carries {amount} {spec.base} for {pair} ({ranges})")
    return None


MAX_USER_LABEL = 64


def status_filter(raw: str | None) -> OrderStatus | None:
    """A `status` filter (CLI `--status`, API `?status=`), any case; bad text names the field and the states."""
    if raw is None:
        return None
    name = raw.strip().upper()
    if name not in OrderStatus.__members__:
        raise InvalidOrder([FieldError("status", f"must be one of {', '.join(OrderStatus)}")])
    return OrderStatus(name)


def validate_user_label(raw: object, field_name: str = "userId") -> str | FieldError | None:
    """A client's own label for an order (the public task's `userId`): optional, 1-64 printable ASCII characters."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not 1 <= len(raw) <= MAX_USER_LABEL or not (raw.isascii() and raw.isprintable()):
        return FieldError(field_name, f"must be 1-{MAX_USER_LABEL} printable ASCII characters")
    return raw


def _check_depth(amount: Decimal, direction: Direction, spec: PairSpec) -> FieldError | None:
    """A BUY takes BASE out of a pool, and a constant-product pool cannot give away its whole reserve.

    The router quotes both venues for every order, so a BUY must be below the shallower pool's
    depth (a SELL adds to the pool and is never refused for depth).
    """
    if direction is not Direction.BUY or not spec.listed:
        return None  # a routable pair's limits already keep each hop below its pools' depth
    venue, depth = min(spec.liquidity.items(), key=lambda item: item[1])
    depth_text = f"{Decimal(repr(depth)).normalize():,f}"
    if amount >= Decimal(repr(depth)):
        return FieldError(
            "amount",
            f"a BUY must be below {depth_text} {spec.base}, the depth of {str(venue).capitalize()}'s "
            f"{spec.pair} pool, the shallower one",
        )
    return None
