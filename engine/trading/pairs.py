"""The tradable pairs, read from resources/pairs.json: limits for validation, markets for the router.

Installed, resources/ is the package `dexdesk_resources` (see setup.py), so the file is read with
importlib.resources: the same call finds it in a checkout, an editable install and a wheel.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from engine.model.domain import Venue

RESOURCES_PACKAGE = "dexdesk_resources"


@dataclass(frozen=True, slots=True)
class PairSpec:
    pair: str
    base: str
    quote: str
    price: Decimal
    decimals: int
    price_decimals: int
    min_amount: Decimal
    max_amount: Decimal
    volatility: float
    liquidity: dict[Venue, float]

    @property
    def involves_sol(self) -> bool:
        return "SOL" in (self.base, self.quote)


class PairCatalog:
    """Pairs by upper-case name, in the file's order (the order the desk lists them)."""

    def __init__(self, specs: list[PairSpec]) -> None:
        self._specs = {spec.pair: spec for spec in specs}

    def __iter__(self) -> Iterator[PairSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, pair: str) -> PairSpec | None:
        return self._specs.get(pair)

    def __getitem__(self, pair: str) -> PairSpec:
        return self._specs[pair]

    @property
    def names(self) -> list[str]:
        return list(self._specs)

    @classmethod
    def from_file(cls, path: Traversable) -> PairCatalog:
        """A catalog from a pairs.json: a Path, or a file inside an installed package."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        specs = []
        for item in raw["pairs"]:
            base, quote = item["pair"].upper().split("-")
            specs.append(
                PairSpec(
                    pair=f"{base}-{quote}",
                    base=base,
                    quote=quote,
                    price=Decimal(item["price"]),
                    decimals=int(item["decimals"]),
                    price_decimals=int(item["priceDecimals"]),
                    min_amount=Decimal(item["minAmount"]),
                    max_amount=Decimal(item["maxAmount"]),
                    volatility=float(item["volatility"]),
                    liquidity={Venue(name): float(depth) for name, depth in item["liquidity"].items()},
                )
            )
        return cls(specs)


@cache
def default_catalog() -> PairCatalog:
    return PairCatalog.from_file(files(RESOURCES_PACKAGE) / "pairs.json")
