"""PostgreSQL adds up the summary's totals once per statement, in one order, so writers never deadlock.

Revision ID: 0009
Revises: 0008
Revision 0005's triggers add each finished row to `order_totals` (per pair, side, status and
venue) and `confirm_times` (per venue and millisecond) as the row is written: a group commit that
ends a dozen orders upserts a dozen times, in the order its rows happen to be updated. Those totals
rows are shared by every process. Two cluster workers whose commits ended orders of the same pairs
in opposite orders each held a totals row the other wanted: PostgreSQL broke the deadlock after its
`deadlock_timeout` (1 s), during which both workers' orders stood still (a 1 s gap in 4 of 6 traced
`bench cluster --workers 1 3 --cpu-quota 0.25` runs, one to three times a run).

On PostgreSQL the triggers now run once per statement over its transition tables: the statement's
finished rows are summed per totals row, and each totals row is upserted once, in key order (all of
`order_totals`, then `confirm_times`). Writers that take shared rows in one order cannot wait on
each other in a circle, and a batch of twelve ends costs one upsert per pair and status, not twelve.
The totals are the same sums as before: a row leaving the finished set is taken away and a row
entering it added, so a statement whose finished rows did not change moves nothing (and locks no
totals row). SQLite keeps 0005's row triggers: it has one writer at a time.

The function keeps the schema it was made in (`SET search_path FROM CURRENT`): it now runs for every
statement on `orders`, also a session's whose search path does not name dexdesk's schema (a tool
writing `"schema".orders`, a test's stalled insert), and must find its totals all the same.

No data changes: the totals already equal a count of the rows. Downgrade restores 0005's triggers.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_FINISHED = "status IN ('CANCELLED', 'CONFIRMED', 'FAILED')"
_SUMS = ("orders", "retried", "amount", "notional", "fee", "slippage_bps", "slippage_count")


def _moved(tables: tuple[tuple[str, str], ...]) -> str:
    """The finished rows of each transition table, with their share of the totals signed (+ in, - out)."""
    parts = [
        f"""SELECT pair, direction, status, COALESCE(dex, '') AS dex, {sign}1 AS orders,
               {sign}(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) AS retried, {sign}amount AS amount,
               {sign}COALESCE(notional, 0) AS notional, {sign}COALESCE(fee, 0) AS fee,
               {sign}COALESCE(slippage_bps, 0) AS slippage_bps,
               {sign}(CASE WHEN slippage_bps IS NULL THEN 0 ELSE 1 END) AS slippage_count,
               dex AS venue, confirm_ms,
               (status = 'CONFIRMED' AND dex IS NOT NULL AND confirm_ms IS NOT NULL) AS timed
        FROM {table} WHERE {_FINISHED}"""
        for table, sign in tables
    ]
    return "\n        UNION ALL ".join(parts)


def _apply(tables: tuple[tuple[str, str], ...]) -> str:
    """Upsert each totals row the statement moved, once, in key order."""
    moved = _moved(tables)
    sums = ", ".join(f"SUM({name})" for name in _SUMS)
    moves = " OR ".join(f"SUM({name}) <> 0" for name in _SUMS)
    adds = ", ".join(f"{name} = t.{name} + EXCLUDED.{name}" for name in _SUMS)
    return f"""
        INSERT INTO order_totals AS t (pair, direction, status, dex, {", ".join(_SUMS)})
        SELECT pair, direction, status, dex, {sums} FROM ({moved}) AS m
        GROUP BY pair, direction, status, dex HAVING {moves}
        ORDER BY pair, direction, status, dex
        ON CONFLICT (pair, direction, status, dex) DO UPDATE SET {adds};
        INSERT INTO confirm_times AS c (dex, confirm_ms, orders)
        SELECT venue, confirm_ms, SUM(orders) FROM ({moved}) AS m WHERE timed
        GROUP BY venue, confirm_ms HAVING SUM(orders) <> 0
        ORDER BY venue, confirm_ms
        ON CONFLICT (dex, confirm_ms) DO UPDATE SET orders = c.orders + EXCLUDED.orders;"""


_FUNCTION = f"""
CREATE FUNCTION orders_totals_statement() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {_apply((("new_rows", ""),))}
    ELSIF TG_OP = 'UPDATE' THEN {_apply((("old_rows", "-"), ("new_rows", "")))}
    ELSE {_apply((("old_rows", "-"),))}
    END IF;
    RETURN NULL;
END
$$
"""
_TRIGGERS = (
    "CREATE TRIGGER orders_totals_insert AFTER INSERT ON orders REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION orders_totals_statement()",
    "CREATE TRIGGER orders_totals_update AFTER UPDATE ON orders REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_totals_statement()",
    "CREATE TRIGGER orders_totals_delete AFTER DELETE ON orders REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION orders_totals_statement()",
)
_NAMES = ("orders_totals_insert", "orders_totals_update", "orders_totals_delete")


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _drop_triggers(function: str) -> None:
    """Drop the three totals triggers (0005's and 0009's share their names) and the function they ran."""
    for name in _NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON orders")
    op.execute(f"DROP FUNCTION IF EXISTS {function}()")


def upgrade() -> None:
    if not _postgres():
        return
    _drop_triggers("orders_totals_change")
    op.execute(_FUNCTION)
    for statement in _TRIGGERS:
        op.execute(statement)


def _revision_0005() -> ModuleType:
    """Revision 0005's module, whose row triggers a downgrade puts back (Alembic loads it by path too)."""
    path = Path(__file__).with_name("0005_export_figure_columns.py")
    spec = importlib.util.spec_from_file_location("dexdesk_revision_0005", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    if not _postgres():
        return
    _drop_triggers("orders_totals_statement")
    for statement in _revision_0005()._POSTGRES_TRIGGERS:
        op.execute(statement)
