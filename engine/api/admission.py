"""New orders from many concurrent requests stored together: one insert transaction carries every
order that arrived while the previous one was being written.

A request is answered only after its order is stored, as the engine promises; batching changes
how many round trips the database makes, never what is stored or announced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from engine.model.domain import Order
from engine.model.validation import InvalidOrder, OrderRequest
from engine.runtime.engine import Engine

MAX_BATCH = 500


class Admission:
    def __init__(self, engine: Engine, on_admitted: Callable[[str, bool], None] | None = None) -> None:
        self.engine = engine
        # Told each order a request is answered with (its id, whether it has ended): the metrics' clock.
        self.on_admitted = on_admitted
        self._waiting: list[tuple[OrderRequest, asyncio.Future[Order]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, request: OrderRequest) -> Order:
        future: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="dexdesk-api-admission")
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                await self._store(batch)
            except InvalidOrder as error:
                if len(batch) == 1:
                    self._fail(batch, error)
                    continue
                # One order's refusal (a paper account's shortfall) refuses the whole transaction and
                # stores nothing: store each alone, in arrival order, so each hears its own answer.
                for single in batch:
                    try:
                        await self._store([single])
                    except Exception as problem:  # noqa: BLE001 (the request hears why)
                        self._fail([single], problem)
            except Exception as error:  # noqa: BLE001 (every waiting request hears why; none is left hanging)
                self._fail(batch, error)

    async def _store(self, batch: list[tuple[OrderRequest, asyncio.Future[Order]]]) -> None:
        # The same Idempotency-Key twice in one batch is one order: the first request's, stored once;
        # each request then hears it (a different request with that key is refused by its route).
        first: dict[str, OrderRequest] = {}
        for request, _ in batch:
            first.setdefault(request.order_id, request)
        unique = list(first.values())
        stored = {order.id: order for order in await self.engine.submit_many(unique)}
        if self.on_admitted is not None:
            for order in stored.values():
                self.on_admitted(order.id, order.is_terminal)
        for request, future in batch:
            if not future.done():
                future.set_result(stored[request.order_id])

    @staticmethod
    def _fail(batch: list[tuple[OrderRequest, asyncio.Future[Order]]], error: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(error)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
