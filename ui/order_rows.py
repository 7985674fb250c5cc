"""Finished orders kept as columns (codes, scaled decimals, microsecond times), an `Order` built only when asked.

Why: an `Order` snapshot with its Decimals, datetimes and route is ~2 kB of Python objects; the
desk holds every stored order (100,000 after a trading day) on the board and every fill in the
blotter, which put the desk at 414-605 MB (issue 24 item 6, issue 26 item 4). Here a finished
order is ~300 bytes: typed arrays of codes and numbers, its id and tx hash as the one string each,
texts that repeat (pairs, errors, owners) interned. A row's `Order` is rebuilt exactly (same
decimals, same times, same route) for the few rows on screen, a copy or a dialog, and the last
few thousand built are kept so a repaint does not rebuild them.

An order still running stays an `Order` (it changes several times a second and there are few of
them); it is packed into the columns once it reaches a terminal state. Odd values the columns do
not cover (a split or two-hop route, limit terms, a decimal of more than 18 digits) are kept as
they are in small side dictionaries, so nothing is ever rounded.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.model.domain import MARKET_TERMS, Direction, Order, OrderStatus, OrderTerms, Route, Venue

STATUSES = tuple(OrderStatus)
DIRECTIONS = tuple(Direction)
VENUES = tuple(Venue)
STATUS_CODE = {status: code for code, status in enumerate(STATUSES)}
DIRECTION_CODE = {direction: code for code, direction in enumerate(DIRECTIONS)}
VENUE_CODE = {venue: code for code, venue in enumerate(VENUES)}
NO_VENUE = -1
DIRECTION_TEXTS = tuple(direction.value for direction in DIRECTIONS)
VENUE_TEXTS = (*(venue.value for venue in VENUES), "")  # by code; NO_VENUE (-1) reads the last: ""
NO_TIME = -(2**63)
NO_EXPONENT = 127  # the exponent that marks "no decimal here"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_NAN = float("nan")
_EXACT_POWERS = np.array([float(10**power) for power in range(23)])  # every power of ten a double holds exactly
_EXACT_INTEGER = 2**53  # below this every integer is a double exactly
BUILT_KEPT = 4096  # built snapshots kept for repaints: a few screens of rows

_interned: dict[str, str] = {}


def intern_text(text: str | None) -> str | None:
    """One object per distinct text (pairs, errors, owners repeat across 100,000 rows)."""
    return None if text is None else _interned.setdefault(text, text)


def micros(moment: datetime | None) -> int:
    """Microseconds since the epoch, exactly (a datetime's own resolution)."""
    return NO_TIME if moment is None else (moment - _EPOCH) // _ONE_US


def moment_of(value: int) -> datetime | None:
    return None if value == NO_TIME else _EPOCH + timedelta(microseconds=value)


def split_decimal(value: Decimal | None) -> tuple[int, int] | None:
    """(coefficient, exponent) with the Decimal's own exponent, so it reads back identical; None: does not fit."""
    if value is None:
        return 0, NO_EXPONENT
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or not -100 <= exponent <= 100 or value.adjusted() - exponent > 17:
        return None
    return int(value.scaleb(-exponent)), exponent


def join_decimal(coefficient: int, exponent: int) -> Decimal | None:
    return None if exponent == NO_EXPONENT else Decimal(f"{coefficient}E{exponent}")


def exact_float(coefficient: int, exponent: int) -> float:
    """float(Decimal) of a packed decimal, correctly rounded (int / int is), without making the Decimal."""
    return coefficient / 10**-exponent if exponent < 0 else float(coefficient * 10**exponent)


class DecimalColumn:
    """Exact decimals, 9 bytes each: a 64-bit coefficient and the exponent; the rare misfit in a dict."""

    __slots__ = ("coefficients", "exponents", "odd")

    def __init__(self) -> None:
        self.coefficients = array("q")
        self.exponents = array("b")
        self.odd: dict[int, Decimal] = {}

    def append(self, value: Decimal | None) -> None:
        self.set(len(self.exponents), value)

    def set(self, row: int, value: Decimal | None) -> None:
        parts = split_decimal(value)
        if parts is None:
            self.odd[row] = value  # type: ignore[assignment]  # None always fits
            parts = (0, NO_EXPONENT)
        else:
            self.odd.pop(row, None)
        if row == len(self.exponents):
            self.coefficients.append(parts[0])
            self.exponents.append(parts[1])
        else:
            self.coefficients[row], self.exponents[row] = parts

    def get(self, row: int) -> Decimal | None:
        odd = self.odd.get(row)
        return odd if odd is not None else join_decimal(self.coefficients[row], self.exponents[row])

    def floats(self, missing: float) -> npt.NDArray[np.float64]:
        """float() of every decimal (`missing` for none), correctly rounded like float(Decimal).

        Where the coefficient and the power of ten are both doubles exactly, numpy's one division (or
        multiplication) rounds once, correctly, as `exact_float`'s int / int does; the rest (18-digit
        coefficients, far exponents) go through `exact_float` one by one.
        """
        coefficients = np.frombuffer(self.coefficients, dtype=np.int64)
        exponents = np.frombuffer(self.exponents, dtype=np.int8).astype(np.int64)
        values = np.full(len(exponents), missing)
        present = exponents != NO_EXPONENT
        exact = present & (np.abs(coefficients) < _EXACT_INTEGER) & (np.abs(exponents) < len(_EXACT_POWERS))
        digits, powers = coefficients[exact].astype(np.float64), _EXACT_POWERS[np.abs(exponents[exact])]
        values[exact] = np.where(exponents[exact] < 0, digits / powers, digits * powers)
        for row in np.flatnonzero(present & ~exact).tolist():
            values[row] = exact_float(self.coefficients[row], self.exponents[row])
        for row, value in self.odd.items():
            values[row] = float(value)
        return values

    def extend(self, other: DecimalColumn, offset: int) -> None:
        self.coefficients.extend(other.coefficients)
        self.exponents.extend(other.exponents)
        self.odd.update((row + offset, value) for row, value in other.odd.items())


class OrderRows:
    """Orders by row number: finished ones as columns, running ones as their `Order`.

    `rows[i]` is the order at row i (built on demand for a packed row); `rows[i] = order` replaces
    it (packed at once when it has ended); `append` adds one, `absorb` a whole packed chunk (made
    in a worker thread) in a few array extends.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.tx_hashes: list[str | None] = []
        self.pairs: list[str] = []
        self.errors: list[str | None] = []
        self.owners: list[str | None] = []
        self.labels: list[str | None] = []
        self.seq = array("q")
        self.created = array("q")  # µs since the epoch
        self.updated = array("q")
        self.retry_at = array("q")
        self.status = array("b")
        self.direction = array("b")
        self.venue = array("b")
        self.attempts = array("h")
        self.version = array("q")
        self.trigger = array("d")  # NaN: none
        self.amount = DecimalColumn()
        self.price = DecimalColumn()
        self.quoted = DecimalColumn()  # terms' quoted price when the terms are only that
        self.route_quote = DecimalColumn()  # a single-venue route's quote
        self.route_time = array("d")  # NaN: none
        self.route_venue = array("b")  # NO_VENUE: no simple route (see `odd_routes`)
        self.odd_routes: dict[int, Route] = {}  # split and two-hop routes, as they are
        self.odd_signatures: dict[int, str] = {}  # a simple route's signature when it is not the tx hash
        self.odd_terms: dict[int, OrderTerms] = {}  # limit terms and other full terms
        self.request_keys: dict[int, str] = {}
        self.running: dict[int, Order] = {}  # rows whose order has not ended: kept whole
        self._built: dict[int, Order] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, row: int) -> Order:
        order = self.running.get(row)
        if order is not None:
            return order
        order = self._built.get(row)
        if order is None:
            if len(self._built) >= BUILT_KEPT:
                self._built.clear()
            order = self._built[row] = self.build(row)
        return order

    def __setitem__(self, row: int, order: Order) -> None:
        self._built.pop(row, None)
        if order.is_terminal:
            self.running.pop(row, None)
            self._write(row, order)
        else:
            self.running[row] = order
            self._write_key_fields(row, order)

    def __iter__(self) -> Iterator[Order]:
        return (self[row] for row in range(len(self)))

    def append(self, order: Order) -> int:
        """Add `order` as the last row; returns its row number."""
        row = len(self.ids)
        self.ids.append(order.id)
        self.tx_hashes.append(None)
        self.pairs.append("")
        self.errors.append(None)
        self.owners.append(None)
        self.labels.append(None)
        for column in (self.seq, self.created, self.updated, self.retry_at, self.version):
            column.append(0)
        for codes in (self.status, self.direction, self.venue, self.route_venue):
            codes.append(0)
        self.attempts.append(0)
        self.trigger.append(_NAN)
        self.route_time.append(_NAN)
        for decimals in (self.amount, self.price, self.quoted, self.route_quote):
            decimals.append(None)
        self[row] = order
        return row

    def extend(self, orders: Iterable[Order]) -> None:
        for order in orders:
            self.append(order)

    def absorb(self, chunk: OrderRows) -> int:
        """Append every row of `chunk` (packed elsewhere, e.g. in a worker thread); returns the first row number."""
        offset = len(self.ids)
        for name in ("ids", "tx_hashes", "pairs", "errors", "owners", "labels", "seq", "created", "updated",
                     "retry_at", "status", "direction", "venue", "attempts", "version", "trigger", "route_time",
                     "route_venue"):  # fmt: skip
            getattr(self, name).extend(getattr(chunk, name))
        for name in ("amount", "price", "quoted", "route_quote"):
            getattr(self, name).extend(getattr(chunk, name), offset)
        for name in ("odd_routes", "odd_signatures", "odd_terms", "request_keys", "running"):
            getattr(self, name).update((row + offset, value) for row, value in getattr(chunk, name).items())
        return offset

    # -- packing --------------------------------------------------------------------------

    def _write_key_fields(self, row: int, order: Order) -> None:
        """What the cheap readers (`status_of`, `pair_of`, …) need, for a running order too."""
        self.ids[row] = order.id
        self.pairs[row] = _interned.setdefault(order.pair, order.pair)
        self.seq[row] = order.seq
        self.status[row] = STATUS_CODE[order.status]
        self.direction[row] = DIRECTION_CODE[order.direction]
        self.tx_hashes[row] = order.tx_hash

    def _write(self, row: int, order: Order) -> None:
        self._write_key_fields(row, order)
        self.errors[row] = intern_text(order.error)
        self.owners[row] = intern_text(order.owner)
        self.labels[row] = intern_text(order.user_label)
        self.created[row] = micros(order.created_at)
        self.updated[row] = micros(order.updated_at)
        self.retry_at[row] = micros(order.retry_at)
        self.venue[row] = NO_VENUE if order.dex is None else VENUE_CODE[order.dex]
        self.attempts[row] = order.attempts
        self.version[row] = order.version
        self.trigger[row] = _NAN if order.trigger_time is None else order.trigger_time
        self.amount.set(row, order.amount)
        self.price.set(row, order.execution_price)
        self._write_terms(row, order.terms)
        self._write_route(row, order)
        if order.request_key is not None:
            self.request_keys[row] = order.request_key
        else:
            self.request_keys.pop(row, None)

    def _write_terms(self, row: int, terms: OrderTerms) -> None:
        self.odd_terms.pop(row, None)
        if terms == MARKET_TERMS:
            self.quoted.set(row, None)
        elif terms == OrderTerms(quoted_price=terms.quoted_price):
            self.quoted.set(row, terms.quoted_price)
        else:
            self.quoted.set(row, None)
            self.odd_terms[row] = terms

    def _write_route(self, row: int, order: Order) -> None:
        route = order.route
        self.odd_routes.pop(row, None)
        self.odd_signatures.pop(row, None)
        if route is None or route.legs or route.hops:
            self.route_venue[row] = NO_VENUE
            self.route_quote.set(row, None)
            self.route_time[row] = _NAN
            if route is not None:
                self.odd_routes[row] = route
            return
        self.route_venue[row] = VENUE_CODE[route.venue]
        self.route_quote.set(row, route.quoted_price)
        self.route_time[row] = _NAN if route.market_time is None else route.market_time
        if route.signature != order.tx_hash:
            self.odd_signatures[row] = route.signature

    # -- reading --------------------------------------------------------------------------

    def build(self, row: int) -> Order:
        """The row's `Order`, exactly as it was packed (logs are never kept)."""
        running = self.running.get(row)
        if running is not None:
            return running
        venue = self.venue[row]
        trigger = self.trigger[row]
        return Order(
            id=self.ids[row],
            seq=self.seq[row],
            pair=self.pairs[row],
            direction=DIRECTIONS[self.direction[row]],
            amount=self.amount.get(row),  # type: ignore[arg-type]  # never None
            status=STATUSES[self.status[row]],
            created_at=moment_of(self.created[row]),  # type: ignore[arg-type]
            updated_at=moment_of(self.updated[row]),  # type: ignore[arg-type]
            dex=None if venue == NO_VENUE else VENUES[venue],
            execution_price=self.price.get(row),
            tx_hash=self.tx_hashes[row],
            attempts=self.attempts[row],
            error=self.errors[row],
            route=self._route(row),
            version=self.version[row],
            owner=self.owners[row],
            retry_at=moment_of(self.retry_at[row]),
            terms=self._terms(row),
            trigger_time=None if trigger != trigger else trigger,
            user_label=self.labels[row],
            request_key=self.request_keys.get(row),
        )

    def _terms(self, row: int) -> OrderTerms:
        odd = self.odd_terms.get(row)
        if odd is not None:
            return odd
        quoted = self.quoted.get(row)
        return MARKET_TERMS if quoted is None else OrderTerms(quoted_price=quoted)

    def _route(self, row: int) -> Route | None:
        odd = self.odd_routes.get(row)
        if odd is not None:
            return odd
        venue = self.route_venue[row]
        if venue == NO_VENUE:
            return None
        moment = self.route_time[row]
        signature = self.odd_signatures.get(row, self.tx_hashes[row])
        return Route(
            VENUES[venue],
            self.route_quote.get(row),  # type: ignore[arg-type]
            signature,  # type: ignore[arg-type]
            None if moment != moment else moment,
        )

    def status_of(self, row: int) -> OrderStatus:
        return STATUSES[self.status[row]]

    def is_running(self, row: int) -> bool:
        return row in self.running

    def state(self) -> dict[str, Any]:
        """Sizes, for a test or a bench to see what is kept."""
        return {"rows": len(self), "running": len(self.running), "built": len(self._built)}
