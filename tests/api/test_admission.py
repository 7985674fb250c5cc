"""The API's admission: requests that arrive together are stored in one insert, each answered on its own."""

from __future__ import annotations

import asyncio
import dataclasses

from engine.api.admission import Admission
from engine.model.validation import InvalidOrder
from engine.runtime.engine import engine_settings
from tests.conftest import running, stored_orders

SETTLED = engine_settings(time_scale=0, rate_limit=0, seed=4, failure_rate=0)


async def test_one_refused_request_in_a_batch_hears_its_refusal_and_the_others_are_stored(sqlite_url: str) -> None:
    async with running(sqlite_url, SETTLED) as engine:
        await engine.reset_account("USDC=1000,SOL=5")
        admitted: list[str] = []
        admission = Admission(engine, lambda order_id, _ended: admitted.append(order_id))
        first = engine.validate("SOL-USDC", "1", "SELL")
        too_much = engine.validate("SOL-USDC", "50", "SELL")
        last = engine.validate("SOL-USDC", "2", "SELL")
        answers = await asyncio.gather(*(admission.submit(r) for r in (first, too_much, last)), return_exceptions=True)
        await admission.close()
    assert isinstance(answers[1], InvalidOrder)
    # Tried alone after the batch was refused, in arrival order: the first order's 1 SOL is reserved.
    assert str(answers[1]) == "amount: needs 50.00 SOL, 4.00 available"
    assert [getattr(answer, "id", None) for answer in answers] == [first.order_id, None, last.order_id]
    assert admitted == [first.order_id, last.order_id]
    assert sorted(order.id for order in await stored_orders(sqlite_url)) == sorted([first.order_id, last.order_id])


async def test_the_same_order_id_twice_in_one_batch_is_one_order_both_requests_hear(sqlite_url: str) -> None:
    async with running(sqlite_url, SETTLED) as engine:
        admission = Admission(engine)
        request = engine.validate("SOL-USDC", "1", "BUY")
        again = dataclasses.replace(request, amount=request.amount * 2)  # same id: the first one wins
        one, two = await asyncio.gather(admission.submit(request), admission.submit(again))
        await admission.close()
    assert one is two
    assert one.amount == request.amount
    assert [order.id for order in await stored_orders(sqlite_url)] == [request.order_id]
