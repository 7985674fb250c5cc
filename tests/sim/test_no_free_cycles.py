"""No free cycle: trading round a triangle (or any cycle) of listed pairs loses, at every moment and size.

Before, each pair's reference walked on its own, so SOL→USDC→USDT→SOL drifted: two legs beat the
direct pair 47–65 % of the time, by up to 2,150 bps. The check here knows nothing of the market's
construction: it walks every cycle of the listed pairs' token graph (both ways round), carries
the amount through each trade, and multiplies what each trade gives per token spent, recomputed
from the router's quotes (both venues' and whatever route it chose), taking the best of them at
every step — trades on any venues. Over 4,000 moments per cycle, half of them each way round (four
seeds, thirty days of market time, starting values log-uniform from $10 to $2M), the smallest loss
was 26 bps for a triangle and 40 bps for the four-token cycle; the promise tested is the smaller
venue fee, 20 bps (each trade loses at least 7 bps net, whichever way its pools lean).
"""

from __future__ import annotations

import math
import random
from decimal import ROUND_DOWN, Decimal

import pytest

from engine.model.clock import Clock
from engine.model.domain import Direction
from engine.trading.pairs import PairCatalog, PairSpec, default_catalog
from engine.trading.router import FEES, MockDexRouter, RouterSettings

MOMENTS = 4000
SEEDS = 4
SMALLER_FEE = min(FEES.values())


def _cycles(catalog: PairCatalog) -> list[tuple[str, ...]]:
    """Every simple cycle of three or four tokens joined by listed pairs, each direction once."""
    tokens = catalog.tokens
    found: list[tuple[str, ...]] = []
    for length in (3, 4):
        stack: list[tuple[str, ...]] = [(token,) for token in tokens]
        while stack:
            path = stack.pop()
            if len(path) == length:
                if catalog.hop_pair(path[-1], path[0]) is not None and path[0] == min(path) and path[1] < path[-1]:
                    found.append(path)
                continue
            for token in tokens:
                if token not in path and catalog.hop_pair(path[-1], token) is not None:
                    stack.append((*path, token))
    return found


def _trade(router: MockDexRouter, held: Decimal, token: str, to: str, at: float) -> tuple[Decimal, Decimal] | None:
    """Spend `held` of `token` for `to` on their listed pair: (what comes out, out per token in) at the
    best of the quotes (each venue's, and the route the router chose); None if the size is out of range."""
    spec = router.catalog.hop_pair(token, to)
    assert spec is not None
    places = Decimal(1).scaleb(-spec.decimals)
    if spec.base == token:  # SELL `held` BASE
        amount = held.quantize(places, ROUND_DOWN)
        direction = Direction.SELL
    else:  # BUY the BASE `held` QUOTE pays for, at about the pool price
        pool = router.quote_at(spec.pair, spec.min_amount, Direction.BUY, at).chosen.effective_price
        amount = (held / pool).quantize(places, ROUND_DOWN)
        direction = Direction.BUY
    if not _fits(spec, amount):
        return None
    decision = router.quote_at(spec.pair, amount, direction, at)
    prices = [quote.effective_price for quote in (*decision.quotes, decision.chosen)]
    if direction is Direction.SELL:
        best = max(prices)
        return amount * best, best
    best = min(prices)
    return amount, 1 / best


def _fits(spec: PairSpec, amount: Decimal) -> bool:
    shallower = Decimal(repr(min(spec.liquidity.values())))
    return spec.min_amount <= amount <= min(spec.max_amount, shallower * Decimal("0.9"))


@pytest.mark.parametrize("cycle", _cycles(default_catalog()), ids="-".join)
def test_every_cycle_of_listed_pairs_loses_at_least_the_smaller_fee_at_every_moment_and_size(
    cycle: tuple[str, ...],
) -> None:
    catalog = default_catalog()
    routers = [MockDexRouter(catalog, RouterSettings(seed=seed), Clock(0)) for seed in range(SEEDS)]
    rng = random.Random(f"no-free-cycle:{cycle}")
    checked = 0
    worst = Decimal(0)
    for index in range(MOMENTS):
        router = routers[index % SEEDS]
        at = rng.uniform(0, 30 * 86400)
        worth = Decimal(repr(math.exp(rng.uniform(math.log(10), math.log(2_000_000)))))
        way = cycle if index % 2 == 0 else (cycle[0], *reversed(cycle[1:]))
        held = worth / catalog.value(way[0])
        gained = Decimal(1)
        for token, to in zip(way, (*way[1:], way[0]), strict=True):
            traded = _trade(router, held, token, to, at)
            if traded is None:
                break
            held, rate = traded
            gained *= rate
        else:
            checked += 1
            worst = max(worst, gained)
            assert gained <= 1 - SMALLER_FEE, f"{' → '.join(way)} at {at:.1f} s from ${worth:.2f}: ×{gained}"
    assert checked > MOMENTS * 0.8, f"{checked} of {MOMENTS} moments fit every pair's limits"
    print(f"{'-'.join(cycle)}: worst cycle ×{worst:.6f} over {checked} moments")


def test_the_listed_pairs_have_triangles_to_check() -> None:
    cycles = {frozenset(cycle) for cycle in _cycles(default_catalog())}
    assert frozenset({"SOL", "USDC", "USDT"}) in cycles
    assert frozenset({"JUP", "SOL", "USDC"}) in cycles
