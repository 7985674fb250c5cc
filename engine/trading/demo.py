"""Random valid orders, for `dexdesk run`, the desk's Burst action and the benchmarks."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from decimal import ROUND_DOWN, Decimal

from engine.model.domain import Direction
from engine.model.jsonfmt import format_decimal
from engine.model.validation import OrderRequest
from engine.trading.pairs import PairCatalog


def random_requests(
    catalog: PairCatalog, count: int, *, seed: int | None = None, pairs: Sequence[str] | None = None
) -> list[OrderRequest]:
    """Orders a desk would see: sizes spread log-uniformly between a pair's minimum and 1% of its maximum."""
    return list(each_random_request(catalog, count, seed=seed, pairs=pairs))


def each_random_request(
    catalog: PairCatalog, count: int, *, seed: int | None = None, pairs: Sequence[str] | None = None
) -> Iterator[OrderRequest]:
    """`random_requests` one at a time (the same orders for a seed): `run` submits 100,000 without a list of them."""
    rng = random.Random(seed)
    names = list(pairs) if pairs else catalog.names
    for _ in range(count):
        spec = catalog[rng.choice(names)]
        low = math.log(float(spec.min_amount) * 10)
        high = math.log(max(float(spec.max_amount) / 100, float(spec.min_amount) * 20))
        raw = Decimal(repr(math.exp(rng.uniform(low, high))))
        amount = raw.quantize(Decimal(1).scaleb(-spec.decimals), ROUND_DOWN)
        amount = max(amount, spec.min_amount)
        direction = Direction.BUY if rng.random() < 0.5 else Direction.SELL
        yield OrderRequest(spec.pair, Decimal(format_decimal(amount)), direction)
