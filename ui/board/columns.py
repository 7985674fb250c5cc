"""The board's columns, each declared in ONE place, as rows of data (the way vn.py declares a monitor).

A column is one `ColumnSpec`: its title and header tooltip, width (by default the columns through
Slip. fit the ~960 px a 1366-px screen leaves the board, with Id shown after Slip.: ui/board/view.py)
and alignment, how a cell reads (`display`), what Ctrl+C and "copy row as CSV" take from it (`copy`: full
ids and hashes, never the elided text), its colour and cell tooltip, and its sort key. Adding a
column is one entry in `Column`.

Sort keys are plain ints and floats, so the model can sort 100,000 of them with numpy in a few
milliseconds: text columns sort by `text_key` (the first eight characters, in code-point order; rows
that share them keep the board's natural order, newest first). A column whose key moves with the clock
(`ticks`, Elapsed) caches minus the start time of a running order and resolves it when sorting.
"""

from __future__ import annotations

import enum
import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from PySide6.QtGui import QColor

from engine.account.model import notional, slippage_bps
from engine.model.domain import ACTIVE_STATES, Direction, Order, OrderStatus
from engine.model.outcomes import Outcome, is_neutral_end, outcome
from ui.board.context import BoardContext
from ui.formatting import duration, local_timestamp, seconds_between, short_hash, short_id
from ui.theme import ERROR_TEXT, MUTED_TEXT, SIDE_COLORS

EMPTY_NUMBER = -math.inf  # empty number cells sort below every value
RUNNING_STATES = frozenset({OrderStatus.ROUTING, OrderStatus.BUILDING, OrderStatus.SUBMITTED})
QUOTED_STATES = frozenset({OrderStatus.BUILDING, OrderStatus.SUBMITTED})
STATUS_RANK = {status: rank for rank, status in enumerate(OrderStatus)}

Display = Callable[[Order, BoardContext], str]
Colour = Callable[[Order, BoardContext], QColor | None]
CellTip = Callable[[Order, BoardContext], str | None]
SortKey = Callable[[Order], float | int]


def text_key(text: str | None) -> int:
    """An int that orders like the text's first eight characters (non-ASCII reads as '?'); '' first."""
    if not text:
        return 0
    return int.from_bytes(text[:8].encode("ascii", "replace").ljust(8, b"\0"), "big")


def text_keys(texts: list[str]) -> array[int]:
    """`text_key` for many texts at once: numpy cuts them to 8 bytes and reads those as big-endian ints."""
    try:
        cut = np.array(texts, dtype="S8")
    except UnicodeEncodeError:  # non-ASCII somewhere: one at a time, '?' for what ASCII lacks
        return array("q", map(text_key, texts))
    keys = array("q")
    keys.frombytes(cut.view(">i8").astype(np.int64).tobytes())
    return keys


def _optional(value: object, shape: str) -> str:
    return "" if value is None else shape.format(value)


def _number(value: object) -> float:
    return EMPTY_NUMBER if value is None else float(value)  # type: ignore[arg-type]


def elapsed_seconds(order: Order, now: datetime | None = None) -> float:
    end = order.updated_at if order.is_terminal else (now or datetime.now(UTC))
    return seconds_between(order.created_at, end)


def _elapsed_key(order: Order) -> float:
    """The final figure once terminal; for a running order minus its start (resolved at sort time)."""
    if order.is_terminal:
        return seconds_between(order.created_at, order.updated_at)
    return -order.created_at.timestamp()


def resolve_ticking(keys: list[float], now: float) -> list[float]:
    return [key if key >= 0 else now + key for key in keys]


def is_quote(order: Order) -> bool:
    """BUILDING and SUBMITTED carry the quoted price; only CONFIRMED carries the executed one."""
    return order.execution_price is not None and order.status in QUOTED_STATES


def is_retrying(order: Order) -> bool:
    return order.status is OrderStatus.PENDING and order.attempts > 0


def limit_text(order: Order, context: BoardContext) -> str:
    """ "≤ 144.5500": a BUY waits for the price to fall to its limit, a SELL for it to rise."""
    sign = "≤" if order.direction is Direction.BUY else "≥"
    return f"{sign} {context.formats.price(order.pair, order.terms.limit_price)}"


def _limit_tip(order: Order, context: BoardContext) -> str:
    expiry = order.terms.expires_at
    until = f" until {local_timestamp(expiry)}, then it expires" if expiry else ", with no expiry"
    return f"Limit order waiting for the market: it routes once the best price is {limit_text(order, context)}{until}"


def board_price(order: Order) -> Decimal | None:
    """What the Price column shows: the executed or quoted price, or a waiting limit order's limit."""
    return order.terms.limit_price if order.is_waiting_limit else order.execution_price


_today: list[Any] = [-1.0, None]  # [monotonic second it was read, today's local date]


def local_today() -> date:
    """Today's local date, read at most once a second (every Time cell of every paint asks)."""
    second = time.monotonic() // 1
    if _today[0] != second:
        _today[:] = [second, datetime.now().astimezone().date()]
    return _today[1]  # type: ignore[no-any-return]


def board_time(order: Order, _context: BoardContext) -> str:
    """Today's orders by time to the millisecond; older ones with their date."""
    local = order.created_at.astimezone()
    if local.date() == local_today():
        return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"
    return local.strftime("%d %b %H:%M:%S")


def venue_text(order: Order) -> str | None:
    """The venue, or for a split every venue in its legs' order ("raydium+meteora"): a split
    40,000 SOL BUY read "raydium" alone, as if meteora had no part in its price."""
    legs = order.route.legs if order.route is not None else ()
    if legs:
        return "+".join(dict.fromkeys(str(leg.venue) for leg in legs))
    return str(order.dex) if order.dex else None


def status_text(order: Order, context: BoardContext) -> str:
    """The status word, and for a waiting order what it waits for: its place in the queue or its retry."""
    ended = outcome(order)
    if ended is Outcome.EXPIRED:
        return "EXPIRED price not reached"  # its own outcome, neutral (engine/model/outcomes.py)
    if order.status in (OrderStatus.FAILED, OrderStatus.CANCELLED) and order.error:
        return f"{order.status} {order.error}"  # the reason beside the chip (in full in the Error column)
    if order.status is not OrderStatus.PENDING:
        return str(order.status)
    if order.is_waiting_limit:
        # The limit itself is in the Price column ("≤ 144.2000"); the countdown is read at paint (once
        # a second). Short: at 1366 px "waits for price" was cut to "waits f…".
        return f"PENDING {expiry_text(order, context) or 'limit'}"
    if is_retrying(order):
        of = f"retry {order.attempts + 1} of {context.max_attempts}"
        due = context.seconds_until(order.retry_at)
        if due is None:  # the engine did not say when (a store written before retry times were kept)
            return f"{of}, waiting"
        return f"{of} in {max(1, math.ceil(due))} s" if due > 0 else f"{of}, next up"
    place = context.queue.position(order)
    return f"PENDING #{place:,} in queue" if place else "PENDING"


def expiry_text(order: Order, context: BoardContext) -> str:
    """ "expires in 4 m 05 s" (or "in 12 s") for a waiting limit order with an expiry; "" without one.

    Short, so the status column shows it whole: what price it waits for is the Price column's "≤ …"."""
    left = context.seconds_until(order.terms.expires_at)
    if left is None:
        return ""
    if left <= 0:
        return "expiring"
    return f"expires in {math.ceil(left)} s" if left < 60 else f"expires in {duration(left)}"


def price_text(order: Order, context: BoardContext) -> str:
    if order.is_waiting_limit:
        # "≤ 144.2000", muted like a quote: the sign says it is a bound, the tooltip says the rest
        # ("≥ 146.8000 limit" was cut to "lim…" at 1366 px).
        return limit_text(order, context)
    text = context.formats.price(order.pair, order.execution_price)
    return f"{text} quoted" if is_quote(order) else text


def _status_tip(order: Order, context: BoardContext) -> str | None:
    if order.is_waiting_limit:
        return _limit_tip(order, context)
    if order.status is OrderStatus.PENDING and not is_retrying(order):
        return "Waiting in this desk's queue: position among orders not yet started (retries due go first)"
    return order.error


def _price_tip(order: Order, context: BoardContext) -> str | None:
    if order.is_waiting_limit:
        return _limit_tip(order, context)
    return "Quoted price: the swap has not executed yet" if is_quote(order) else None


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    title: str
    width: int
    tooltip: str
    display: Display
    sort_key: SortKey
    numeric: bool = False
    copy: Callable[[Order], str] | None = None  # full value for the clipboard; None: the displayed text
    colour: Colour | None = None
    cell_tip: CellTip | None = None
    ticks: bool = False  # the key moves with the clock (cached as minus the start, see module doc)
    int_key: bool = False  # a `text_key`: 64-bit ints, which a float would round
    text_value: Callable[[Order], str | None] | None = None  # the text a `text_key` is made of (done in bulk)
    fixed: bool = False  # the value never changes once an order exists (its key is not recomputed on updates)

    @classmethod
    def text(
        cls, title: str, width: int, tooltip: str, value: Callable[[Order], str | None], **more: Any
    ) -> ColumnSpec:
        """A column of text, sorted by `text_key`; shown as it is unless `display` says otherwise."""
        display = more.pop("display", lambda order, _c: value(order) or "")
        return cls(title, width, tooltip, display, lambda order: text_key(value(order)),
                   int_key=True, text_value=value, **more)  # fmt: skip


class Column(enum.Enum):
    TIME = ColumnSpec(
        "Time", 112, "When the order was received (local time; the date when not today)",
        board_time, lambda order: order.created_at.timestamp(), fixed=True,
        copy=lambda order: local_timestamp(order.created_at), colour=lambda _o, _c: MUTED_TEXT,
        cell_tip=lambda order, _c: local_timestamp(order.created_at),
    )  # fmt: skip
    ID = ColumnSpec.text(
        "Id", 76, "First characters of the order id; Ctrl+C copies all of it", lambda order: order.id, fixed=True,
        display=lambda order, _c: short_id(order.id),
        copy=lambda order: order.id, colour=lambda _o, _c: MUTED_TEXT, cell_tip=lambda order, _c: order.id,
    )  # fmt: skip
    PAIR = ColumnSpec.text("Pair", 88, "BASE-QUOTE", lambda order: order.pair, fixed=True)
    SIDE = ColumnSpec.text(
        "Side", 48, "BUY spends QUOTE for the amount of BASE; SELL sells it", lambda order: order.direction.value,
        fixed=True, colour=lambda order, _c: SIDE_COLORS[order.direction],
    )  # fmt: skip
    AMOUNT = ColumnSpec(
        "Amount", 98, "Amount of the BASE token",
        lambda order, context: context.formats.amount(order.pair, order.amount), lambda order: float(order.amount),
        numeric=True, copy=lambda order: str(order.amount), fixed=True,
    )  # fmt: skip
    STATUS = ColumnSpec(
        "Status", 150, "Where the order is in its life; waiting orders show their queue place or their retry",
        status_text, lambda order: STATUS_RANK[order.status], cell_tip=_status_tip,
    )  # fmt: skip
    VENUE = ColumnSpec.text(
        "Venue",
        132,
        "The DEX the router chose; a split order names each venue it filled on",
        lambda order: venue_text(order),
    )
    PRICE = ColumnSpec(
        "Price", 124,
        "QUOTE per BASE, fees included: executed once CONFIRMED, marked 'quoted' (muted) before;"
        " a waiting limit order's limit",
        price_text, lambda order: _number(board_price(order)), numeric=True,
        copy=lambda order: _optional(board_price(order), "{}"),
        colour=lambda order, _c: MUTED_TEXT if is_quote(order) or order.is_waiting_limit else None,
        cell_tip=_price_tip,
    )  # fmt: skip
    NOTIONAL = ColumnSpec(
        "Notional", 112, "What a confirmed order paid or received: amount × price, in QUOTE",
        lambda order, _c: _optional(notional(order), "{:,.2f}"), lambda order: _number(notional(order)),
        numeric=True, copy=lambda order: _optional(notional(order), "{}"),
    )  # fmt: skip
    SLIPPAGE = ColumnSpec(
        "Slip. (bps)", 86,
        "How much worse than the price it was sent at (its quote, or its limit) it filled, in basis points;"
        " the same number as the blotter, the detail view, the CSV's slippageBps and the Summary",
        lambda order, _c: _optional(slippage_bps(order), "{:+}"), lambda order: _number(slippage_bps(order)),
        numeric=True,
    )  # fmt: skip
    TX_HASH = ColumnSpec.text(
        "Tx hash", 106, "Transaction signature; Ctrl+C copies all of it", lambda order: order.tx_hash,
        display=lambda order, _c: short_hash(order.tx_hash),
        copy=lambda order: order.tx_hash or "", colour=lambda _o, _c: MUTED_TEXT,
        cell_tip=lambda order, _c: order.tx_hash,
    )  # fmt: skip
    ATTEMPTS = ColumnSpec(
        "Att.", 56, "Attempts started (at most 3)",
        lambda order, _c: str(order.attempts) if order.attempts else "", lambda order: order.attempts, numeric=True,
    )  # fmt: skip
    ELAPSED = ColumnSpec(
        "Elapsed", 100, "Time from receipt to the final state (or until now)",
        lambda order, _c: duration(elapsed_seconds(order)), _elapsed_key, numeric=True, ticks=True,
    )  # fmt: skip
    ERROR = ColumnSpec.text(
        "Error", 260, "Why the last attempt failed (kept while a retry waits; cleared once CONFIRMED)",
        lambda order: order.error, colour=lambda order, _c: MUTED_TEXT if is_neutral_end(order) else ERROR_TEXT,
        cell_tip=lambda order, _c: order.error,
    )  # fmt: skip
    USER = ColumnSpec.text(
        "User", 96, "The label a client gave the order through the API (`userId`); empty for the desk's own orders",
        lambda order: order.user_label, fixed=True, cell_tip=lambda order, _c: order.user_label,
    )  # fmt: skip

    @property
    def index(self) -> int:
        return _COLUMN_INDEX[self]

    @property
    def spec(self) -> ColumnSpec:
        spec: ColumnSpec = self.value
        return spec


COLUMNS: tuple[Column, ...] = tuple(Column)
_COLUMN_INDEX = {column: number for number, column in enumerate(COLUMNS)}


def copy_text(column: Column, order: Order, context: BoardContext) -> str:
    """What copying a cell gives: the full value (whole id, whole hash, exact amount), never the elided text."""
    spec = column.spec
    return spec.copy(order) if spec.copy is not None else spec.display(order, context)


def matches_search(order: Order, typed: str) -> bool:
    """The search for one order: id, pair, side and venue in any case; the tx hash exactly as typed."""
    needle = typed.lower()
    fields = (order.id, order.pair.lower(), order.direction.value.lower(), order.dex or "")
    return any(needle in field for field in fields) or typed in (order.tx_hash or "")


def is_active(order: Order) -> bool:
    return order.status in ACTIVE_STATES
