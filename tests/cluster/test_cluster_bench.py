"""`dexdesk bench cluster` runs real workers at a small N and prints the keys scripts read (no timing asserted)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from app.bench import cpu_quota, worker_logs
from app.bench.cluster_rounds import round_order
from app.bench.cpu_quota import CpuQuota, QuotaUnavailable
from tests.faults.support import DEXDESK, ThrowawayRedis, dexdesk_env
from tests.services import POSTGRES_ADMIN_URL, require

pytestmark = pytest.mark.slow  # real processes or servers: the slow lane (pytest -m slow)

KEYS = {
    "orders_per_s",
    "orders_per_s_end_to_end",
    "workers",
    "max_starts_per_window",
    "lost",
    "executed_twice",
    "speedup_2_vs_1",
}


async def _bench_cluster(tmp_path: Path, *options: str, within: float) -> dict[str, Any]:
    """Run `dexdesk bench cluster --json` with `options` on a throwaway Redis; its JSON, once it exited 0."""
    redis = ThrowawayRedis(tmp_path / "redis")
    await redis.start()
    try:
        process = await asyncio.create_subprocess_exec(
            DEXDESK,
            "bench",
            "cluster",
            *options,
            "--db",
            POSTGRES_ADMIN_URL,
            "--queue",
            redis.url,
            "--json",
            env=dexdesk_env(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), within)
    finally:
        await redis.kill()
    assert process.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_bench_cluster_measures_one_and_two_workers_in_rounds_and_loses_nothing(tmp_path: Path) -> None:
    require("postgres")
    result = await _bench_cluster(tmp_path, "--workers", "2", "--orders", "40", "--rounds", "2", within=240)
    assert set(result) >= KEYS
    assert result["workers"] == [1, 2]
    assert result["rounds"] == 2
    assert set(result["orders_per_s"]) == set(result["orders_per_s_end_to_end"]) == {"1", "2"}
    each = result["orders_per_s_by_round"]
    assert [len(each["1"]), len(each["2"])] == [2, 2]
    ratios = [two / one for one, two in zip(each["1"], each["2"], strict=True)]
    assert result["scaling_by_round"]["2"] == [round(ratio, 3) for ratio in ratios]
    assert result["speedup_2_vs_1"] == pytest.approx(sum(ratios) / 2, abs=0.002)  # the median of two
    assert result["orders_per_s"]["1"] == pytest.approx(sum(each["1"]) / 2)
    assert len(result["worker_cpu_ms_per_order"]["2"]) == 2
    # `bench engine` ran beside each round's one-worker run; the ratio is taken within the round.
    engine, beside = result["engine_cpu_ms_per_order_by_round"], result["worker_vs_engine_by_round"]
    assert len(engine) == len(beside) == 2
    assert all(ms > 0 for ms in engine)
    assert all(ratio > 0 for ratio in beside)
    assert result["worker_vs_engine"] == pytest.approx(sum(beside) / 2, abs=0.002)  # the median of two
    assert (result["worker_log"]["errors"], result["worker_log"]["tracebacks"]) == (0, 0), result["worker_log"]
    assert result["lost"] == 0
    assert result["executed_twice"] == 0
    assert result["max_starts_per_window"] <= result["rate_limit"]


async def test_bench_cluster_with_a_cpu_quota_holds_each_worker_and_removes_its_cgroups(tmp_path: Path) -> None:
    require("postgres")
    quota = CpuQuota(0.5)
    try:
        quota.open()
    except QuotaUnavailable as error:
        pytest.skip(f"no writable cgroup CPU controller here: {error}")
    before = set(quota._root.iterdir())
    result = await _bench_cluster(tmp_path, "--workers", "1", "3", "--cpu-quota", "0.5", "--orders", "30", within=240)
    assert result["workers"] == [1, 3]
    assert result["cpu_quota"] == 0.5
    assert result["cgroup"] == quota.version
    assert set(result["scaling"]) == set(result["scaling_end_to_end"]) == {"3"}
    assert result["lost"] == 0
    assert result["executed_twice"] == 0
    made = {path for path in set(quota._root.iterdir()) - before if path.name.startswith("dexdesk-bench-")}
    assert not made, f"cgroups left behind: {made}"


def test_what_the_workers_logged_is_counted_and_the_first_problem_shown(tmp_path: Path) -> None:
    # Lines as a worker wrote them in a run whose group commits deadlocked (thirteenth session).
    (tmp_path / "worker-0.log").write_text(
        "dexdesk worker 76e97a58de2f: taking orders from redis://127.0.0.1:6379/5 (concurrency 10)\n"
        "2026-12-07 04:44:13,025 ERROR engine.storage.group_commit: could not store 12 state changes\n"
        "Traceback (most recent call last):\n"
        '  File "/work/main/engine/storage/group_commit.py", line 66, in _commit\n'
        "asyncpg.exceptions.DeadlockDetectedError: deadlock detected\n"
        "2026-12-07 04:44:13,026 WARNING engine.cluster.worker_claims: order d068 keeps its last stored state\n"
        "2026-12-07 05:30:16,698 INFO engine.cluster.worker: queue: could not renew lock for job ae32\n"
    )
    (tmp_path / "worker-1.log").write_text("2026-12-07 04:44:14,000 WARNING engine.cluster.worker: heartbeat missed\n")
    (tmp_path / "bench.log").write_text("2026-12-07 04:44:14,000 ERROR not a worker's\n")
    said = worker_logs.read(tmp_path)
    assert (said.warnings, said.errors, said.tracebacks) == (2, 1, 1)
    assert said.first == "2026-12-07 04:44:13,025 ERROR engine.storage.group_commit: could not store 12 state changes"


def test_rounds_run_the_counts_forwards_then_backwards() -> None:
    assert [round_order([1, 3], index) for index in range(3)] == [[1, 3], [3, 1], [1, 3]]


def test_no_writable_cgroup_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cpu_quota, "V1_ROOT", tmp_path / "no-cpu")
    monkeypatch.setattr(cpu_quota, "V2_ROOTS", (tmp_path / "no-cgroup2",))
    with pytest.raises(QuotaUnavailable, match=r"neither .* is mounted"):
        CpuQuota(0.25, _root=tmp_path / "no-cpu").open()
