"""The paper account knows its market: its seed and time base, kept beside its start.

Revision ID: 0008_account_market
Revises: 0006
Marks used to come from the reading command's `--seed` and `--time-scale`; now `account reset`
stores the account's market in `account_meta` (engine/account/market.py: `market_seed`,
`market_time_base`, and `start_marks`, the starting tokens' cost basis). No table changes: an
account started by an earlier release is given the market every unseeded session shares (seed
0, on the wall clock), the one its trades most likely ran in, and no starting cost basis (its
start was never marked). Every order and fill is kept as it is.

Downgrade: the keys are removed; the previous release never reads them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_account_market"
down_revision = "0006"
branch_labels = None
depends_on = None

_META = sa.table("account_meta", sa.column("key", sa.String), sa.column("value", sa.Text))
_DEFAULTS = {"market_seed": "0", "market_time_base": "wall"}


def upgrade() -> None:
    connection = op.get_bind()
    keys = {row.key for row in connection.execute(sa.select(_META.c.key))}
    if "started_at" not in keys:
        return  # no account yet: `account reset` will store its market
    missing = [{"key": key, "value": value} for key, value in _DEFAULTS.items() if key not in keys]
    if missing:
        connection.execute(sa.insert(_META), missing)


def downgrade() -> None:
    op.execute(sa.delete(_META).where(_META.c.key.in_(["market_seed", "market_time_base", "start_marks"])))
