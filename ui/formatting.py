"""How numbers, times and ids read on the desk: per-pair precision, thousands separators, short ids.

Amounts use the pair's amount decimals and prices the pair's price decimals, so a column of one
pair lines up on the decimal point; exact values stay in the CSV and the detail view.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from engine.trading.pairs import PairCatalog

# "314.870785423300 USDC": a number, a space and an upper-case token not followed by a pair's "-".
_AMOUNT_AND_TOKEN = re.compile(r"(?<![\w.,])(\d[\d,]*\.\d+) ([A-Z][A-Z0-9]*)\b(?!-)")
# A figure after these words is a price ("average 58.824590 RAY"), kept at a price's places.
_PRICE_WORDS = frozenset({"average", "price", "at", "quoted"})
SHORT_ID_LENGTH = 8
SHORT_HASH_LENGTH = 8


def short_id(order_id: str) -> str:
    return order_id[:SHORT_ID_LENGTH]


def short_hash(tx_hash: str | None) -> str:
    if not tx_hash:
        return ""
    return f"{tx_hash[:SHORT_HASH_LENGTH]}…"


def elide_middle(text: str, keep: int = 14) -> str:
    """Long hashes as people compare them: the start and the end."""
    return text if len(text) <= keep * 2 + 1 else f"{text[:keep]}…{text[-keep:]}"


def group_decimal(value: Decimal, places: int) -> str:
    """Fixed places with thousands separators: 12,345.6700. What rounds to zero has no sign: an
    unrealized PnL of -0.001 USDC read "-0.00" in a loss's red on a freshly reset account."""
    text = f"{value:,.{places}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        return text[1:]
    return text


class PairFormats:
    """Per-pair precision looked up once per pair instead of once per cell."""

    def __init__(self, catalog: PairCatalog) -> None:
        self._amount_places = {spec.pair: spec.decimals for spec in catalog}
        self._price_places = {spec.pair: spec.price_decimals for spec in catalog}
        self._token_places: dict[str, int] = {}
        self._quoted = {spec.quote for spec in catalog}
        # No pair's price has more places: a figure with more is a route's raw amount (`amounts_in`).
        self._price_places_at_most = max(self._price_places.values(), default=8)
        for spec in catalog:
            self._token_places[spec.base] = max(self._token_places.get(spec.base, 0), spec.decimals)

    def amount(self, pair: str, value: Decimal) -> str:
        """An amount of the pair's BASE token, at the pair's amount decimals."""
        return group_decimal(value, self._amount_places.get(pair, 4))

    def price(self, pair: str, value: Decimal | None) -> str:
        if value is None:
            return ""
        return group_decimal(value, self._price_places.get(pair, 6))

    def amount_places(self, pair: str) -> int:
        return self._amount_places.get(pair, 4)

    def price_places(self, pair: str) -> int:
        return self._price_places.get(pair, 6)

    def token(self, token: str, value: Decimal) -> str:
        """An amount of a token at the token's decimals: 10.0000 SOL, 1,250,000 BONK, 9,876.54 USDC."""
        return group_decimal(value, self.token_places(token))

    def amounts_in(self, text: str) -> str:
        """A log message with each "<amount> <TOKEN>" written at the route's full precision put at the token's
        decimals: the engine writes a hop's amounts as the route computed them (12 places, "314.870785423300
        USDC"), which the detail view's timeline printed as they were. Figures of a price's places at most
        after a price word ("average 58.824590 RAY") are left as written. The message itself stays in the log."""

        def shortened(found: re.Match[str]) -> str:
            number, token = found.group(1), found.group(2)
            places = self._token_places.get(token, 2 if token in self._quoted else -1)
            written = len(number.partition(".")[2])
            before = found.string[: found.start()].split()
            a_price = bool(before) and before[-1].lower() in _PRICE_WORDS
            if places < 0 or written <= places or (a_price and written <= self._price_places_at_most):
                return found.group(0)
            return f"{group_decimal(Decimal(number.replace(',', '')), places)} {token}"

        return _AMOUNT_AND_TOKEN.sub(shortened, text)

    def token_places(self, token: str) -> int:
        """A token's decimals: the most any pair it is the base of uses; 2 for a token only ever quoted
        in (a stablecoin: cents)."""
        return self._token_places.get(token, 2)


def local_time(moment: datetime) -> str:
    """Board time: local wall clock to the millisecond; today's date is implied."""
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"
    return local.strftime("%Y-%m-%d %H:%M")


def clock_time(moment: datetime) -> str:
    """Local time of day to the millisecond, for timelines whose date is shown once above them."""
    local = moment.astimezone()
    return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def local_timestamp(moment: datetime) -> str:
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def seconds_between(start: datetime, end: datetime | None = None) -> float:
    end = end or datetime.now(UTC)
    return max(0.0, (end - start).total_seconds())


def duration(seconds: float) -> str:
    """Short human durations: 850 ms, 2.4 s, 1 m 05 s, 3 h 02 m."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes} m {rest:02d} s"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} m"


def percent(fraction: Decimal | float, places: int = 2) -> str:
    return f"{float(fraction) * 100:.{places}f} %"


def impact_text(fraction: Decimal) -> str:
    """Price impact as an aggregator shows it: tiny impacts read as '< 0.01 %'."""
    if fraction < Decimal("0.0001"):
        return "< 0.01 %"
    return percent(fraction)


def share_text(part: int, whole: int) -> str:
    """A share that never rounds a difference away: 8,211 of 8,212 is "99.99 %", never "100.0 %";
    1 of 100,000 is "0.001 %", never "0.0 %". Only all is 100 % and only none is 0 %."""
    if whole <= 0:
        return "—"
    if part == whole:
        return "100 %"
    if part == 0:
        return "0 %"
    value = part / whole * 100
    for places in (1, 2, 3, 4):
        text = f"{value:.{places}f}"
        if 0 < float(text) < 100:
            return f"{text} %"
    return "> 99.9999 %" if value > 50 else "< 0.0001 %"
