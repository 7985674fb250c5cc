"""Issue 21: a process following orders another process runs hears every state, in order.

The change feed gives each order's latest row; a follower that looks every half second heard an
order jump from PENDING to CONFIRMED (a `serve` WebSocket missed ROUTING or BUILDING for 19 of 30
orders). Two real engines on one real database: the owner runs 30 orders at time scale 0 with
failures (so retries come and go between two looks), the follower hears them through its hub, as
the desk's board and `serve`'s WebSockets do.
"""

from __future__ import annotations

from collections import defaultdict

from engine.model.domain import OrderStatus, OrderUpdate
from engine.runtime.engine import engine_settings
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog
from tests.conftest import running
from tests.faults.support import eventually


def _states(updates: list[OrderUpdate]) -> dict[str, list[tuple[str, int | None]]]:
    """Each order's announced states in order (with the retry's attempt), repeats of one state folded."""
    heard: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for update in updates:
        state = (str(update.message["status"]), update.message.get("attempt"))
        if not heard[update.order_id] or heard[update.order_id][-1] != state:
            heard[update.order_id].append(state)
    return dict(heard)


async def test_a_follower_hears_every_state_of_another_process_s_orders_in_order(db_url: str) -> None:
    busy = engine_settings(time_scale=0, rate_limit=0, seed=3, failure_rate=0.4)
    async with running(db_url) as follower, running(db_url, busy) as owner:
        announced: list[OrderUpdate] = []
        heard: list[OrderUpdate] = []
        owner.subscribe(announced.append)
        follower.subscribe(heard.append)
        orders = await owner.submit_many(random_requests(default_catalog(), 30, seed=8))
        await owner.wait_idle()
        ended = {order.id for order in orders}
        await eventually(
            lambda: {update.order_id for update in heard if update.order.is_terminal} >= ended,
            "the follower to hear every order end",
        )
        by_owner, by_follower = _states(announced), _states(heard)
        retried = sum(1 for states in by_owner.values() if ("PENDING", 1) in states)
        assert retried, "no retry happened: the test would not show retries heard"
        for order in orders:
            assert by_follower[order.id] == by_owner[order.id], order.id
            assert by_follower[order.id][-1][0] in (str(OrderStatus.CONFIRMED), str(OrderStatus.FAILED))
        assert all(update.external for update in heard)
