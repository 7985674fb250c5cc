"""The paper account knows its market; slippage is measured against the price an order was sent at.

Revision ID: 0008
Revises: 0007
Marks used to come from the reading command's `--seed` and `--time-scale`; now `account reset`
stores the account's market in `account_meta` (engine/account/market.py: `market_seed`,
`market_time_base`, and `start_marks`, the starting tokens' cost basis). No table changes: an
account started by an earlier release is given the market every unseeded session shares (seed
0, on the wall clock), the one its trades most likely ran in, and no starting cost basis (its
start was never marked). Every order and fill is kept as it is.

Slippage has one definition (engine/model/execution_figures.py `sent_price`): against the price the
order was sent at (its quote, or its limit), no longer the routing quote. A CONFIRMED order that
stored its terms (every order since 0.2) gets its stored `quoted_price` and `slippage_bps`
recomputed that way; the summary's totals follow through their triggers (revision 0005). An
order from 0.1.0 has no terms and keeps its routing quote, as before.

Downgrade: the account keys are removed (the previous release never reads them); the recomputed
figures stay, valid figures the previous release shows as they are.
"""

from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from engine.model.domain import Direction, OrderTerms, OrderType
from engine.model.execution_figures import slippage_bps
from engine.storage.schema import ExactDecimal

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_META = sa.table("account_meta", sa.column("key", sa.String), sa.column("value", sa.Text))
_DEFAULTS = {"market_seed": "0", "market_time_base": "wall"}


_ORDERS = sa.table(
    "orders",
    sa.column("id", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("status", sa.String),
    sa.column("direction", sa.String),
    sa.column("execution_price", ExactDecimal),
    sa.column("quoted_price", ExactDecimal),
    sa.column("slippage_bps", ExactDecimal),
)
_LOGS = sa.table(
    "order_logs", sa.column("order_id", sa.String), sa.column("idx", sa.Integer), sa.column("data", sa.Text)
)
_CHUNK = 5000


def upgrade() -> None:
    connection = op.get_bind()
    keys = {row.key for row in connection.execute(sa.select(_META.c.key))}
    if "started_at" in keys:  # an account with no market yet: `account reset` stores one from now on
        missing = [{"key": key, "value": value} for key, value in _DEFAULTS.items() if key not in keys]
        if missing:
            connection.execute(sa.insert(_META), missing)
    _slippage_against_the_sent_price(connection)


def _sent_price(first_line: str | None) -> Decimal | None:
    """The price an order was sent at, from the terms in its first log line (None for a 0.1.0 order)."""
    data = json.loads(first_line, parse_float=Decimal) if first_line else None
    raw = data.get("terms") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return None
    terms = OrderTerms.from_json(raw)
    return terms.price_bound if terms.type is OrderType.LIMIT else terms.quoted_price


def _slippage_against_the_sent_price(connection: sa.Connection) -> None:
    update = (
        sa.update(_ORDERS)
        .where(_ORDERS.c.id == sa.bindparam("o_id"))
        .values(quoted_price=sa.bindparam("o_quoted"), slippage_bps=sa.bindparam("o_slippage"))
    )
    last = -1
    while True:
        rows = connection.execute(
            sa.select(_ORDERS.c.seq, _ORDERS.c.id, _ORDERS.c.direction, _ORDERS.c.execution_price, _LOGS.c.data)
            .join(_LOGS, sa.and_(_LOGS.c.order_id == _ORDERS.c.id, _LOGS.c.idx == 0))
            .where(_ORDERS.c.seq > last, _ORDERS.c.status == "CONFIRMED")
            .order_by(_ORDERS.c.seq)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1].seq
        values = []
        for row in rows:
            sent = _sent_price(row.data)
            if sent is not None and row.execution_price is not None:
                slip = slippage_bps(Direction(row.direction), sent, row.execution_price)
                values.append({"o_id": row.id, "o_quoted": sent, "o_slippage": slip})
        if values:
            connection.execute(update, values)


def downgrade() -> None:
    op.execute(sa.delete(_META).where(_META.c.key.in_(["market_seed", "market_time_base", "start_marks"])))
