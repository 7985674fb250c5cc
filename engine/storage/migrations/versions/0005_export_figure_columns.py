"""Stored figures of confirmed orders and the summary's totals (branch `export`).

Revision ID: 0005
Revises: 0004
Orders gain `quoted_price`, `slippage_bps`, `notional`, `fee` (the report's added columns, exact)
and `confirm_ms` (submission to CONFIRMED), set when an order is stored as CONFIRMED
(engine/storage/figure_columns.py). Every CONFIRMED order already stored gets its figures worked
out from its stored route and prices exactly as the report did, so an older database keeps every
order and its report stays byte for byte the same.

`order_totals` (per pair, side, status and venue) and `confirm_times` (per venue and millisecond)
add up the finished orders. Triggers on `orders` keep them equal to a count of the finished rows
whatever code writes them, in the transaction that writes: a row inserted finished or updated to
a finished status is added; a finished row updated or deleted is taken away first (which the
engine never does: a finished order does not change). They start from a count of the stored rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.model.jsonfmt import format_decimal
from engine.storage.figure_columns import FIGURE_COLUMNS, NO_FIGURES, stored_figure_values

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BACKFILL_CHUNK = 5000
_FINISHED = "status IN ('CANCELLED', 'CONFIRMED', 'FAILED')"  # also `new.`/`old.` + this, in triggers
_CONFIRMED = "status = 'CONFIRMED'"


def _decimal() -> sa.types.TypeEngine[Any]:
    return sa.String(64).with_variant(postgresql.NUMERIC(), "postgresql")


def upgrade() -> None:
    for name in ("quoted_price", "slippage_bps", "notional", "fee"):
        op.add_column("orders", sa.Column(name, _decimal()))
    op.add_column("orders", sa.Column("confirm_ms", sa.BigInteger))
    _backfill()
    sums = sa.Float(precision=53).with_variant(postgresql.NUMERIC(), "postgresql")
    op.create_table(
        "order_totals",
        sa.Column("pair", sa.String(32), primary_key=True),
        sa.Column("direction", sa.String(4), primary_key=True),
        sa.Column("status", sa.String(10), primary_key=True),
        sa.Column("dex", sa.String(10), primary_key=True),
        sa.Column("orders", sa.BigInteger, nullable=False),
        sa.Column("retried", sa.BigInteger, nullable=False),
        *(sa.Column(name, sums, nullable=False) for name in ("amount", "notional", "fee", "slippage_bps")),
        sa.Column("slippage_count", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "confirm_times",
        sa.Column("dex", sa.String(10), primary_key=True),
        sa.Column("confirm_ms", sa.BigInteger, primary_key=True),
        sa.Column("orders", sa.BigInteger, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    number = "CAST({} AS REAL)" if dialect == "sqlite" else "{}"
    op.execute(_COUNT_TOTALS.format(amount=number.format("amount"), **_sums(number)))
    op.execute(_COUNT_TIMES)
    for statement in _SQLITE_TRIGGERS if dialect == "sqlite" else _POSTGRES_TRIGGERS:
        op.execute(statement)


def _sums(number: str) -> dict[str, str]:
    return {name: f"COALESCE({number.format(name)}, 0)" for name in ("notional", "fee", "slippage_bps")}


_COUNT_TOTALS = f"""
INSERT INTO order_totals (pair, direction, status, dex, orders, retried, amount, notional, fee, slippage_bps,
                          slippage_count)
SELECT pair, direction, status, COALESCE(dex, ''), COUNT(*), SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END),
       SUM({{amount}}), SUM({{notional}}), SUM({{fee}}), SUM({{slippage_bps}}), COUNT(slippage_bps)
FROM orders WHERE {_FINISHED}
GROUP BY pair, direction, status, COALESCE(dex, '')
"""
_COUNT_TIMES = f"""
INSERT INTO confirm_times (dex, confirm_ms, orders)
SELECT dex, confirm_ms, COUNT(*) FROM orders WHERE {_CONFIRMED} AND dex IS NOT NULL AND confirm_ms IS NOT NULL
GROUP BY dex, confirm_ms
"""

# The columns the totals read: an update of any of them moves a finished row's share.
_COUNTED = "status, pair, direction, dex, attempts, amount, notional, fee, slippage_bps, confirm_ms"


def _sqlite_apply(row: str, sign: str) -> str:
    """Add (sign "") or take away (sign "-") the finished order `row` (new. or old.) in the totals."""
    return f"""
    INSERT INTO order_totals (pair, direction, status, dex, orders, retried, amount, notional, fee, slippage_bps,
                              slippage_count)
    SELECT {row}.pair, {row}.direction, {row}.status, IFNULL({row}.dex, ''), {sign}1, {sign}({row}.attempts > 1),
           {sign}CAST({row}.amount AS REAL), {sign}IFNULL(CAST({row}.notional AS REAL), 0),
           {sign}IFNULL(CAST({row}.fee AS REAL), 0), {sign}IFNULL(CAST({row}.slippage_bps AS REAL), 0),
           {sign}({row}.slippage_bps IS NOT NULL)
    WHERE {row}.{_FINISHED}
    ON CONFLICT (pair, direction, status, dex) DO UPDATE SET
        orders = orders + excluded.orders, retried = retried + excluded.retried, amount = amount + excluded.amount,
        notional = notional + excluded.notional, fee = fee + excluded.fee,
        slippage_bps = slippage_bps + excluded.slippage_bps, slippage_count = slippage_count + excluded.slippage_count;
    INSERT INTO confirm_times (dex, confirm_ms, orders)
    SELECT {row}.dex, {row}.confirm_ms, {sign}1
    WHERE {row}.status = 'CONFIRMED' AND {row}.dex IS NOT NULL AND {row}.confirm_ms IS NOT NULL
    ON CONFLICT (dex, confirm_ms) DO UPDATE SET orders = orders + excluded.orders;
"""


_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER orders_totals_insert AFTER INSERT ON orders WHEN new.{_FINISHED} "
    f"BEGIN {_sqlite_apply('new', '')} END",
    # Two triggers, so an order ending (the engine's one case) runs only the insert that adds it.
    f"CREATE TRIGGER orders_totals_leave AFTER UPDATE OF {_COUNTED} ON orders "
    f"WHEN old.{_FINISHED} BEGIN {_sqlite_apply('old', '-')} END",
    f"CREATE TRIGGER orders_totals_enter AFTER UPDATE OF {_COUNTED} ON orders "
    f"WHEN new.{_FINISHED} BEGIN {_sqlite_apply('new', '')} END",
    f"CREATE TRIGGER orders_totals_delete AFTER DELETE ON orders WHEN old.{_FINISHED} "
    f"BEGIN {_sqlite_apply('old', '-')} END",
)


def _postgres_apply(row: str, sign: str) -> str:
    return f"""
    IF {row}.{_FINISHED} THEN
        INSERT INTO order_totals AS t (pair, direction, status, dex, orders, retried, amount, notional, fee,
                                       slippage_bps, slippage_count)
        VALUES ({row}.pair, {row}.direction, {row}.status, COALESCE({row}.dex, ''), {sign}1,
                {sign}(CASE WHEN {row}.attempts > 1 THEN 1 ELSE 0 END), {sign}{row}.amount,
                {sign}COALESCE({row}.notional, 0), {sign}COALESCE({row}.fee, 0), {sign}COALESCE({row}.slippage_bps, 0),
                {sign}(CASE WHEN {row}.slippage_bps IS NULL THEN 0 ELSE 1 END))
        ON CONFLICT (pair, direction, status, dex) DO UPDATE SET
            orders = t.orders + EXCLUDED.orders, retried = t.retried + EXCLUDED.retried,
            amount = t.amount + EXCLUDED.amount, notional = t.notional + EXCLUDED.notional,
            fee = t.fee + EXCLUDED.fee, slippage_bps = t.slippage_bps + EXCLUDED.slippage_bps,
            slippage_count = t.slippage_count + EXCLUDED.slippage_count;
        IF {row}.status = 'CONFIRMED' AND {row}.dex IS NOT NULL AND {row}.confirm_ms IS NOT NULL THEN
            INSERT INTO confirm_times AS c (dex, confirm_ms, orders) VALUES ({row}.dex, {row}.confirm_ms, {sign}1)
            ON CONFLICT (dex, confirm_ms) DO UPDATE SET orders = c.orders + EXCLUDED.orders;
        END IF;
    END IF;
"""


_POSTGRES_TRIGGERS = (
    f"""
CREATE FUNCTION orders_totals_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {_postgres_apply("OLD", "-")}
    END IF;
    IF TG_OP <> 'DELETE' THEN {_postgres_apply("NEW", "")}
    END IF;
    RETURN NULL;
END
$$
""",
    f"CREATE TRIGGER orders_totals_insert AFTER INSERT ON orders FOR EACH ROW "
    f"WHEN (NEW.{_FINISHED}) EXECUTE FUNCTION orders_totals_change()",
    f"CREATE TRIGGER orders_totals_update AFTER UPDATE OF {_COUNTED} ON orders FOR EACH ROW "
    f"WHEN (OLD.{_FINISHED} OR NEW.{_FINISHED}) EXECUTE FUNCTION orders_totals_change()",
    f"CREATE TRIGGER orders_totals_delete AFTER DELETE ON orders FOR EACH ROW "
    f"WHEN (OLD.{_FINISHED}) EXECUTE FUNCTION orders_totals_change()",
)


def _backfill() -> None:
    """Work out the figures of every stored CONFIRMED order, a chunk at a time, in seq order."""
    bind = op.get_bind()
    stored_decimal = (lambda value: value) if bind.dialect.name == "postgresql" else format_decimal
    orders = sa.table(
        "orders",
        *(
            sa.column(name)
            for name in (
                "seq",
                "status",
                "direction",
                "amount",
                "dex",
                "execution_price",
                "route",
                "created_at",
                "updated_at",
                *FIGURE_COLUMNS,
            )
        ),
    )
    update = (
        orders.update()
        .where(orders.c.seq == sa.bindparam("o_seq"))
        .values({name: sa.bindparam(f"o_{name}") for name in FIGURE_COLUMNS})
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                orders.c.seq,
                orders.c.status,
                orders.c.direction,
                orders.c.amount,
                orders.c.dex,
                orders.c.execution_price,
                orders.c.route,
                orders.c.created_at,
                orders.c.updated_at,
            )
            .where(orders.c.seq > last, orders.c.status == "CONFIRMED")
            .order_by(orders.c.seq)
            .limit(_BACKFILL_CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        values = [
            {"o_seq": row[0], **{f"o_{name}": value for name, value in zip(FIGURE_COLUMNS, figures, strict=True)}}
            for row in rows
            if (figures := stored_figure_values(row[1:], stored_decimal)) is not NO_FIGURES
        ]
        if values:
            bind.execute(update, values)


def downgrade() -> None:
    names = ["orders_totals_delete", "orders_totals_insert"]
    names += ["orders_totals_update"] if _postgres() else ["orders_totals_leave", "orders_totals_enter"]
    for name in names:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON orders" if _postgres() else ""))
    if _postgres():
        op.execute("DROP FUNCTION IF EXISTS orders_totals_change()")
    op.drop_table("confirm_times")
    op.drop_table("order_totals")
    with op.batch_alter_table("orders") as batch:
        for name in ("confirm_ms", "fee", "notional", "slippage_bps", "quoted_price"):
            batch.drop_column(name)


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")
