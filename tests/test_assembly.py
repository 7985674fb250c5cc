"""The one composition root (app/assembly.py): every mode's runner and market are made in one place, by one rule."""

from __future__ import annotations

import re
from pathlib import Path

from app.assembly import build_engine, build_worker
from engine.config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# Nothing is connected to: building a process only makes its parts (storage and Redis open at start).
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
QUEUE_URL = "redis://127.0.0.1:6379/0"


async def test_every_process_of_an_unseeded_cluster_builds_the_same_market() -> None:
    """No `--seed`: the producer, the worker and a lone engine all take market seed 0 (the README's rule)."""
    cluster = Settings(db_url=PG_URL, queue_url=QUEUE_URL)
    producer = build_engine(cluster)
    worker = build_worker(cluster, lease_s=4.0)
    alone = build_engine(Settings(db_url=PG_URL))
    try:
        markets = {process.router.market.seed for process in (producer, worker, alone)}
        assert markets == {0}
        # A producer is an engine whose runner is elsewhere; a worker runs the one it was handed.
        assert producer.runner is None
        assert alone.runner is not None
        assert worker.runner.holder is worker.claims
    finally:
        await worker.client.aclose()


async def test_a_seed_is_every_process_s_market() -> None:
    settings = Settings(db_url=PG_URL, queue_url=QUEUE_URL, seed=11)
    worker = build_worker(settings, lease_s=4.0)
    try:
        assert build_engine(settings).router.market.seed == worker.router.market.seed == 11
    finally:
        await worker.client.aclose()


def test_only_the_assembly_makes_a_runner_a_router_a_clock_or_transitions() -> None:
    """`Engine` and `ClusterWorker` once each built their own; the copies drifted (a worker drew its own market)."""
    made = re.compile(r"\b(OrderRunner|MockDexRouter|Clock|Transitions)\(")
    makers = sorted(
        str(path.relative_to(ROOT))
        for folder in ("app", "engine", "ui")
        for path in (ROOT / folder).rglob("*.py")
        if made.search(path.read_text(encoding="utf-8"))
    )
    assert makers == ["engine/runtime/assembly.py"]
