"""The request bodies' JSON Schemas, built from the same catalog and bounds the validator reads.

The OpenAPI document is the validator's rules written out: every body it accepts is valid by the
schema and every body it refuses is not (schemathesis proves both ways). So each pair has its own
branch (its amount limits and decimal places, its limit price's places), market and limit orders
are separate branches (a limit price only with `limit`), and amounts are either a JSON number or a
plain decimal string, each with the same bounds (the string's by a pattern built here).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from engine.model.domain import Direction
from engine.model.validation import MAX_EXPIRY_S, MAX_NUMBER_TEXT, MAX_SLIPPAGE, MAX_USER_LABEL
from engine.trading.pairs import PairCatalog, PairSpec

USER_LABEL_PATTERN = f"^[ -~]{{1,{MAX_USER_LABEL}}}$"  # printable ASCII, as `validate_user_label` reads it
# A USDC-paid swap buys BASE at the price of the moment: the QUOTE amounts it accepts are bounded
# well inside the pair's BASE limits at the listed price, so a price that moves up to 25 % either
# way still buys an amount within them.
QUOTE_MARGIN = Decimal("1.25")
NULL = {"type": "null"}


def _either_case(*names: str) -> list[str]:
    return sorted({*names, *(name.lower() for name in names)})


def _int_below(limit: int, min_digits: int) -> list[str]:
    """Regexes for integers without leading zeros, of at least `min_digits` digits, below `limit`."""
    text = str(limit)
    parts = [f"[1-9][0-9]{{{length - 1}}}" for length in range(max(min_digits, 1), len(text))]
    if len(text) >= min_digits:
        for index, digit in enumerate(text):
            low = 1 if index == 0 else 0
            if int(digit) > low:
                rest = len(text) - index - 1
                top = int(digit) - 1
                span = f"[{low}-{top}]" if top > low else str(low)
                parts.append(f"{text[:index]}{span}[0-9]{{{rest}}}")
    return parts


def _fraction_from(places: int | None, min_leading_zeros: int | None) -> list[str]:
    """Regexes for `.digits` of a value below 1 that is not 0: a nonzero digit within `places`, and
    (for a minimum of 10**-n) after at most n-1 zeros."""
    most = places if places is not None else None
    zeros_allowed = min_leading_zeros
    if most is not None:
        zeros_allowed = most - 1 if zeros_allowed is None else min(zeros_allowed, most - 1)
    if zeros_allowed is None:
        return [r"\.0*[1-9][0-9]*"]
    parts = []
    for zeros in range(zeros_allowed + 1):
        tail = "[0-9]*" if most is None else f"[0-9]{{0,{most - zeros - 1}}}0*"
        parts.append(rf"\.{'0' * zeros}[1-9]{tail}")
    return parts


def decimal_pattern(
    places: int | None, minimum: Decimal | None, maximum: Decimal | None, *, below: bool = False
) -> str:
    """A plain decimal string (optional `+`, digits, one point) whose value is above 0 (or at least
    `minimum`, a power of ten), at most `maximum` (a whole number; `below`: less than it), with at most
    `places` decimal places once trailing zeros are dropped; as `engine.model.validation.parse_amount`
    and the rules read it."""
    fraction = r"(\.[0-9]*)?" if places is None else rf"(\.[0-9]{{0,{places}}}0*)?"
    min_digits = 1
    below_one = True
    leading_zeros: int | None = None
    if minimum is not None:
        exponent = minimum.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        assert minimum.normalize().as_tuple().digits == (1,), "a power of ten"
        if exponent >= 0:
            min_digits, below_one = exponent + 1, False
        else:
            leading_zeros = -exponent - 1
    options: list[str] = []
    if maximum is None:
        options.append(f"[1-9][0-9]{{{min_digits - 1},}}{fraction}")
    else:
        assert maximum == maximum.to_integral_value(), "a whole number"
        whole = int(maximum)
        options += [f"{part}{fraction}" for part in _int_below(whole, min_digits)]
        if not below:
            options.append(rf"{whole}(\.0*)?")
        if whole < 1:
            below_one = False
    if below_one:
        options += _fraction_from(places, leading_zeros)
    return rf"^\+?0*({'|'.join(options)})$"


def decimal_schema(
    places: int | None, minimum: Decimal | None, maximum: Decimal | None, description: str = "", *, below: bool = False
) -> dict[str, Any]:
    """A JSON number or a plain decimal string, with the same bounds and decimal places (`below`: under `maximum`)."""
    number: dict[str, Any] = {"type": "number"}
    if minimum is None:
        number["exclusiveMinimum"] = 0
    else:
        number["minimum"] = float(minimum)
    if maximum is not None:
        number["exclusiveMaximum" if below else "maximum"] = float(maximum)
    if places is not None:
        number["multipleOf"] = float(Decimal(1).scaleb(-places))
    pattern = decimal_pattern(places, minimum, maximum, below=below)
    text = {"type": "string", "maxLength": MAX_NUMBER_TEXT, "pattern": pattern}
    schema: dict[str, Any] = {"anyOf": [number, text]}
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "anyOf": [*schema["anyOf"], NULL]}


def slippage_schema() -> dict[str, Any]:
    return {
        "anyOf": [_slippage_number(), _slippage_text(), NULL],
        "description": "tolerance around the quote as a fraction, above 0 and at most 0.5 (0.01 = 1%)",
    }


def _slippage_number() -> dict[str, Any]:
    return {"type": "number", "exclusiveMinimum": 0, "maximum": float(MAX_SLIPPAGE)}


def _slippage_text() -> dict[str, Any]:
    # (0, 0.5]: a first decimal 1-4, or zeros then a nonzero digit, or 5 then zeros only.
    return {"type": "string", "maxLength": MAX_NUMBER_TEXT, "pattern": r"^\+?0*\.([1-4][0-9]*|0+[1-9][0-9]*|50*)$"}


def user_label_schema() -> dict[str, Any]:
    return {
        "anyOf": [{"type": "string", "pattern": USER_LABEL_PATTERN}, NULL],
        "description": f"your own label for the order (1-{MAX_USER_LABEL} printable ASCII characters); "
        "list them with `?userId=`",
    }


def _amount(spec: PairSpec) -> dict[str, Any]:
    return decimal_schema(spec.decimals, spec.min_amount, spec.max_amount, f"amount of {spec.base}")


def _buy_amount(spec: PairSpec) -> dict[str, Any] | None:
    """A BUY's amount where the shallower pool's depth is tighter than the pair's maximum: below that depth.

    Validation refuses a BUY of the whole depth (engine/model/validation.py `_check_depth`): a
    constant-product pool cannot give away its whole reserve. None where the maximum is the bound.
    """
    if not spec.listed or not spec.liquidity:
        return None
    depth = Decimal(repr(min(spec.liquidity.values())))
    if depth > spec.max_amount or depth != depth.to_integral_value():
        return None
    return decimal_schema(spec.decimals, spec.min_amount, depth, f"amount of {spec.base}", below=True)


def _sides(spec: PairSpec) -> list[dict[str, Any]]:
    """`direction` and `amount`: one shape for both sides, or a BUY and a SELL where a pool's depth holds a BUY."""
    buy_amount = _buy_amount(spec)
    if buy_amount is None:
        return [{"direction": {"enum": _either_case("BUY", "SELL")}, "amount": _amount(spec)}]
    return [
        {"direction": {"enum": _either_case("BUY")}, "amount": buy_amount},
        {"direction": {"enum": _either_case("SELL")}, "amount": _amount(spec)},
    ]


def order_body_schema(catalog: PairCatalog) -> dict[str, Any]:
    """`POST /api/orders`: one branch per pair, order type and (where a pool's depth bounds a BUY) side.

    A routable pair (e.g. SOL-RAY) takes market orders only.
    """
    branches = []
    for name in [*catalog.names, *catalog.routable_names()]:
        spec = catalog[name]
        for side in _sides(spec):
            branches += _order_branches(spec, name, side)
    return {"anyOf": branches, "example": {"pair": "SOL-USDC", "amount": 10.5, "direction": "BUY"}}


def _order_branches(spec: PairSpec, name: str, side: dict[str, Any]) -> list[dict[str, Any]]:
    """The market (and, for a listed pair, limit) order shapes of one pair and side."""
    common = {
        "pair": {"enum": _either_case(name)},
        **side,
        "slippage": slippage_schema(),
        "userId": user_label_schema(),
    }
    market = {
        **common,
        "type": {"anyOf": [{"enum": _either_case("market")}, NULL]},
        "limitPrice": NULL,
        "expiresIn": NULL,
    }
    limit = {
        **common,
        "type": {"enum": _either_case("limit")},
        "limitPrice": decimal_schema(spec.price_decimals, None, None, f"{spec.quote} per {spec.base}"),
        "expiresIn": _nullable(decimal_schema(None, None, MAX_EXPIRY_S, "seconds, above 0 and at most a year")),
    }
    required = ["pair", "amount", "direction"]
    shapes = [(market, required), (limit, [*required, "type", "limitPrice"])]
    kept = shapes if spec.listed else shapes[:1]  # a routable pair: market orders only
    return [
        {"type": "object", "properties": properties, "required": needed, "additionalProperties": False}
        for properties, needed in kept
    ]


def quote_bounds(spec: PairSpec) -> tuple[Decimal, Decimal]:
    """What a swap paid in the QUOTE token may spend: a power of ten at least 1.25 × the smallest
    BASE amount's worth, and a whole number of one significant digit at most 0.75 × the largest's,
    at the pair's listed price."""
    low = spec.min_amount * spec.price * QUOTE_MARGIN
    low_power = Decimal(1).scaleb(int(low.log10().to_integral_value(ROUND_CEILING)))
    high = spec.max_amount * spec.price / QUOTE_MARGIN
    exponent = int(high.log10().to_integral_value(ROUND_FLOOR))
    leading = int(high.scaleb(-exponent).to_integral_value(ROUND_FLOOR))
    return low_power, Decimal(leading).scaleb(exponent)


def execute_body_schema(catalog: PairCatalog) -> dict[str, Any]:
    """`POST /api/orders/execute`: one branch per token pair and side, `amount` or `amountIn`, `type` or `orderType`."""
    branches = []
    kind = {"anyOf": [{"enum": _either_case("market")}, NULL]}
    sides = [(catalog[name], direction) for name in catalog.names for direction in Direction]
    # Two listed tokens no listed pair trades: the routable pair tokenIn-tokenOut, sold (engine/api/execute.py).
    sides += [(catalog[name], Direction.SELL) for name in catalog.routable_names()]
    for spec, direction in sides:
        if direction is Direction.SELL:
            tokens, amount = (spec.base, spec.quote), _amount(spec)
        else:
            low, high = quote_bounds(spec)
            tokens, amount = (spec.quote, spec.base), decimal_schema(None, low, high, f"{spec.quote} to spend")
        for amount_key, other_amount in (("amount", "amountIn"), ("amountIn", "amount")):
            for kind_key, other_kind in (("type", "orderType"), ("orderType", "type")):
                properties = {
                    "tokenIn": {"enum": _either_case(tokens[0])},
                    "tokenOut": {"enum": _either_case(tokens[1])},
                    amount_key: amount,
                    other_amount: False,
                    "slippage": slippage_schema(),
                    kind_key: kind,
                    other_kind: False,
                    "userId": user_label_schema(),
                }
                branches.append(
                    {
                        "type": "object",
                        "properties": properties,
                        "required": ["tokenIn", "tokenOut", amount_key],
                        "additionalProperties": False,
                    }
                )
    return {"anyOf": branches, "example": {"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1.5}}
