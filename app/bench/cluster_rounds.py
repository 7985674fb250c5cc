"""`bench cluster --rounds R`: every worker count measured R times, in alternating order, and the medians.

On this 2-core machine one run's orders/s moves by up to 2× from one minute to the next (the same
build's CPU per order did, docs/benchmarks.md, thirteenth session), and a ratio of two runs made
20 s apart carries that drift whole. R rounds measure every count once each, the counts in turn
forwards then backwards (1, 3 then 3, 1), so a drift weighs on both sides alike. A ratio is taken
within each round, where its two runs are adjacent, and the median of those is reported beside
every round's figure; orders/s and CPU per order are the medians of the rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from app.bench.worker_logs import WorkerLog


@dataclass
class Run:
    """One `bench cluster` run: a worker count, its orders and wall time, and each process's CPU."""

    workers: int
    orders: int
    wall_s: float
    lost: int
    executed_twice: int
    starts: list[float]
    worker_cpu_s: list[float]
    producer_cpu_s: float
    server_cpu_s: dict[str, float]
    said: WorkerLog  # what its workers logged at WARNING and above


def round_order(counts: Sequence[int], index: int) -> list[int]:
    """The worker counts of round `index`: forwards in even rounds, backwards in odd ones."""
    return list(counts) if index % 2 == 0 else list(reversed(counts))


def by_round(rounds: Sequence[dict[str, float]]) -> dict[str, list[float]]:
    """{count: [its figure in each round]} from [{count: figure} per round]."""
    return {count: [one[count] for one in rounds] for count in rounds[0]}


def medians(figures: dict[str, list[float]]) -> dict[str, float]:
    return {count: float(median(values)) for count, values in figures.items()}


def scaling_by_round(rates: dict[str, list[float]]) -> dict[str, list[float]]:
    """Each count's orders/s ÷ one worker's, round by round (empty without a one-worker count)."""
    if "1" not in rates:
        return {}
    ones = rates["1"]
    return {
        count: [round(rate / one, 3) for rate, one in zip(values, ones, strict=True)]
        for count, values in rates.items()
        if count != "1"
    }


def median_lists(rounds: Sequence[dict[str, list[float]]]) -> dict[str, list[float]]:
    """{count: [the median over rounds of each worker's figure]} (workers in the order they were started)."""
    return {
        count: [round(float(median(one[count][index] for one in rounds)), 3) for index in range(len(rounds[0][count]))]
        for count in rounds[0]
    }


def median_maps(rounds: Sequence[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """{count: {part: the median over rounds}} (the servers' CPU per order)."""
    return {
        count: {part: round(float(median(one[count][part] for one in rounds)), 3) for part in rounds[0][count]}
        for count in rounds[0]
    }


def figures(backlog: Sequence[Sequence[Run]], whole: Sequence[Sequence[Run]]) -> dict[str, Any]:
    """The bench's orders/s, scaling and CPU keys from the rounds' runs (backlog and end to end)."""
    rates = by_round([{str(run.workers): run.orders / run.wall_s for run in one} for one in backlog])
    whole_rates = by_round([{str(run.workers): run.orders / run.wall_s for run in one} for one in whole])
    scaling, whole_scaling = scaling_by_round(rates), scaling_by_round(whole_rates)
    return {
        "orders_per_s": medians(rates),
        "orders_per_s_by_round": rates,
        "speedup_2_vs_1": _median_of(scaling, "2"),
        # N workers' orders/s ÷ one worker's, for every N measured (with a quota: the design's scaling).
        "scaling": {count: _median_of(scaling, count) for count in scaling},
        "scaling_by_round": scaling,
        "orders_per_s_end_to_end": medians(whole_rates),
        "orders_per_s_end_to_end_by_round": whole_rates,
        "speedup_2_vs_1_end_to_end": _median_of(whole_scaling, "2"),
        "scaling_end_to_end": {count: _median_of(whole_scaling, count) for count in whole_scaling},
        "scaling_end_to_end_by_round": whole_scaling,
        # CPU ms per order of each worker process and of the producer (the bench's own process):
        # what bounds a run on a shared 2-core machine, where orders/s also measures the neighbours.
        "worker_cpu_ms_per_order": median_lists(
            [
                {str(run.workers): [1000 * cpu / run.orders for cpu in run.worker_cpu_s] for run in one}
                for one in backlog
            ]
        ),
        "producer_cpu_ms_per_order": {
            count: round(value, 3)
            for count, value in medians(
                by_round([{str(run.workers): 1000 * run.producer_cpu_s / run.orders for run in one} for one in backlog])
            ).items()
        },
        # The same for the PostgreSQL and Redis processes of this machine (0 for a server elsewhere).
        "server_cpu_ms_per_order": median_maps(
            [
                {
                    str(run.workers): {server: 1000 * cpu / run.orders for server, cpu in run.server_cpu_s.items()}
                    for run in one
                }
                for one in backlog
            ]
        ),
    }


def beside_engine(backlog: Sequence[Sequence[Run]], engine_ms: Sequence[float]) -> dict[str, Any]:
    """One worker's CPU per order ÷ `bench engine`'s run in the same round (issue 21 item 7: ≤ 1.5×).

    None and empty lists when no round measured one worker (no engine ran beside it).
    """
    ones = [run for one in backlog for run in one if run.workers == 1]
    ratios = [
        round(1000 * run.worker_cpu_s[0] / run.orders / engine, 3) for run, engine in zip(ones, engine_ms, strict=True)
    ]
    return {
        "engine_cpu_ms_per_order": round(float(median(engine_ms)), 3) if engine_ms else None,
        "engine_cpu_ms_per_order_by_round": [round(engine, 3) for engine in engine_ms],
        "worker_vs_engine": round(float(median(ratios)), 3) if ratios else None,
        "worker_vs_engine_by_round": ratios,
    }


def _median_of(scaling: dict[str, list[float]], count: str) -> float | None:
    values = scaling.get(count)
    return round(float(median(values)), 3) if values else None
