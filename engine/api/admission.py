"""New orders from many concurrent requests stored together: one insert transaction carries every
order that arrived while the previous one was being written.

A request is answered only after its order is stored, as the engine promises; batching changes
how many round trips the database makes, never what is stored or announced.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.model.domain import Order
from engine.model.validation import InvalidOrder, OrderRequest
from engine.runtime.engine import Engine
from engine.storage.batching import Batcher

MAX_BATCH = 500


class Admission:
    def __init__(self, engine: Engine, on_admitted: Callable[[str, bool], None] | None = None) -> None:
        self.engine = engine
        # Told each order a request is answered with (its id, whether it has ended): the metrics' clock.
        self.on_admitted = on_admitted
        self._batcher: Batcher[OrderRequest, Order] = Batcher(
            self._admit, name="dexdesk-api-admission", limit=MAX_BATCH
        )

    async def submit(self, request: OrderRequest) -> Order:
        return await self._batcher.submit(request)

    async def close(self) -> None:
        """Wait until every request submitted has been answered."""
        await self._batcher.flush()

    async def _admit(self, batch: list[OrderRequest]) -> list[Order | BaseException]:
        try:
            return await self._store(batch)
        except InvalidOrder as error:
            if len(batch) == 1:
                return [error]
        # One order's refusal (a paper account's shortfall) refuses the whole transaction and
        # stores nothing: store each alone, in arrival order, so each hears its own answer.
        outcomes: list[Order | BaseException] = []
        for single in batch:
            try:
                outcomes += await self._store([single])
            except Exception as problem:  # noqa: BLE001 (the request hears why)
                outcomes.append(problem)
        return outcomes

    async def _store(self, batch: list[OrderRequest]) -> list[Order | BaseException]:
        # The same Idempotency-Key twice in one batch is one order: the first request's, stored once;
        # each request then hears it (a different request with that key is refused by its route).
        first: dict[str, OrderRequest] = {}
        for request in batch:
            first.setdefault(request.order_id, request)
        stored = {order.id: order for order in await self.engine.submit_many(list(first.values()))}
        if self.on_admitted is not None:
            for order in stored.values():
                self.on_admitted(order.id, order.is_terminal)
        return [stored[request.order_id] for request in batch]
