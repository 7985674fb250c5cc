"""Limit orders in a cluster: watched by their own job, re-delivered until the price is reached or they expire.

An in-process engine keeps a waiting limit order in its limit book, which dies with the process.
In a cluster nothing may depend on one process surviving, so the order's BullMQ job is what
watches it: each turn the worker that claims it looks at the market once; if the limit is reached
the trigger is stored and the same turn runs the order (bound by its limit); if not, the job is
delayed to the next look (half a simulated second, or the expiry if sooner) and the order given up,
so any worker takes the next look. A look past the expiry ends it FAILED `expired`, which releases
its reserve, whichever worker makes it, and after any crash (the job outlives its worker).
"""

from __future__ import annotations

from engine.model.domain import Order
from engine.runtime.limits import CHECK_EVERY_S, expire, has_expired, last_missed_trigger, limit_reached_at, trigger
from engine.runtime.pipeline import Transitions
from engine.runtime.runner_ports import Turn
from engine.storage import OrderStore
from engine.trading.router import Router

SOONEST_LOOK_S = 0.05


class LimitTurns:
    def __init__(self, transitions: Transitions, router: Router, store: OrderStore) -> None:
        self.transitions = transitions
        self.router = router
        self.store = store

    async def watch(self, turn: Turn, order: Order) -> Order | None:
        t = self.transitions
        now = t.now()
        if has_expired(order, now):
            await expire(t, order)
            await turn.transport.ack(turn)
            return None
        clock = t.clock
        # At time scale 0 the market moves only with orders: it stands at the next order's moment.
        at = self.router.market.now(await self.store.max_seq() + 1 if clock.time_scale <= 0 else 0)
        missed = last_missed_trigger(order)
        reached = limit_reached_at(self.router, order, at) if missed is None or at > missed else None
        if reached is not None:
            return await trigger(t, order, reached, at)
        scale = clock.time_scale
        look_s = CHECK_EVERY_S * scale if scale > 0 else CHECK_EVERY_S
        expires = order.terms.expires_at
        if expires is not None:
            look_s = min(look_s, (expires - now).total_seconds())
        await turn.transport.retry_later(turn, max(look_s, SOONEST_LOOK_S))
        return None
