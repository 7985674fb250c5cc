"""Upper bounds on how many orders one command makes, with the reason a user is told."""

from __future__ import annotations

MAX_RUN_ORDERS = 1_000_000
ORDERS_RULE = (
    f"must be 1 to {MAX_RUN_ORDERS:,}: every order is stored with its log and held in memory until "
    "it ends, so a million already takes minutes and about a gigabyte"
)
