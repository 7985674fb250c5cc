"""What the ticket asks before it sends: the order in words, its route and its worst price.

Asked when "Confirm before sending" is ticked, and always for a limit more than the Settings'
N % through the market, which fills at once at the market (a fat finger): then with a warning icon
and the best price now on the first line.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from engine.model.domain import Direction, OrderType
from engine.model.validation import OrderRequest
from engine.trading.pairs import PairSpec
from engine.trading.router import RoutingDecision
from ui.formatting import group_decimal, percent


def confirmation_lines(
    request: OrderRequest,
    spec: PairSpec,
    decision: RoutingDecision | None,
    *,
    amount: str,
    slippage_pct: float,
    through: Decimal | None = None,
) -> list[str]:
    lines = [f"{request.direction} {amount} {spec.base} on {request.pair}"]
    if through is not None and decision is not None:
        best = group_decimal(decision.chosen.effective_price, spec.price_decimals)
        warning = f"This limit is {percent(through, 1)} through the market (best price now {best}): "
        lines.insert(0, warning + "it fills at once, at the market.\n")
    if request.order_type is OrderType.LIMIT and request.limit_price is not None:
        worst = "Max spent" if request.direction is Direction.BUY else "Min received"
        total = group_decimal(request.amount * request.limit_price, spec.price_decimals)
        lines.append(f"Limit price {request.limit_price} {spec.quote} per {spec.base}")
        lines.append(f"{worst} at the limit: {total} {spec.quote}")
        expiry = f"expires in {request.expires_in_s:g} s" if request.expires_in_s else "waits until cancelled"
        lines.append(f"Waits for its price, {expiry}")
    if decision is not None:
        chosen = decision.chosen
        limit_word = "Max spent" if request.direction is Direction.BUY else "Min received"
        lines.append(f"Route: {chosen.venue} at {group_decimal(chosen.effective_price, spec.price_decimals)}")
        if request.order_type is OrderType.MARKET:
            lines.append(f"{limit_word}: {group_decimal(chosen.limit_total, spec.price_decimals)} {spec.quote}")
            lines.append(f"Slippage tolerance: {slippage_pct:.2f} %")
    return lines


def confirmation_box(parent: QWidget, lines: list[str], *, warning: bool) -> QMessageBox:
    icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Question
    box = QMessageBox(icon, "Send this order?", "\n".join(lines), parent=parent)
    box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Ok).setText("Send")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return box


def through_market(request: OrderRequest, decision: RoutingDecision | None, warning_pct: float) -> Decimal | None:
    """How far (a fraction) a limit is through the market, when past the warning; None otherwise.

    A BUY limit above the best price, or a SELL below it, fills at once at the market: a limit
    typed 10 × too high is a fat finger the trader should see before it is sent."""
    if request.order_type is not OrderType.LIMIT or request.limit_price is None or decision is None:
        return None
    if warning_pct <= 0:
        return None
    best = decision.chosen.effective_price
    gap = request.limit_price - best if request.direction is Direction.BUY else best - request.limit_price
    through = gap / best
    return through if through * 100 > Decimal(repr(warning_pct)) else None
