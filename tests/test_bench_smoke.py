"""Each `dexdesk bench` runs once at a small N and prints the JSON keys scripts read (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from app.cli import main

KEYS = {
    "engine": {
        "orders_per_s",
        "state_changes_per_s",
        "latency_p50_ms",
        "latency_p99_ms",
        "peak_rss_mb",
        "ceiling_ratio",
        "cpu_ms_per_order",
        "loop_cpu_ms_per_order",
        "gc_ms_per_order",
        "server_cpu_ms_per_order",
        "commits",
        "changes_per_commit",
        "commit_in_flight_share",
        "loop_busy_in_commits",
    },
    "spec": {"max_starts_per_window", "max_in_flight", "backlog_vs_ideal"},
    "board": {
        "lag_p50_ms",
        "lag_p99_ms",
        "lag_max_ms",
        "rss_mb",
        "first_paint_s",
        "all_on_board_s",  # issue 26's three targets, under plain names, and each with its target
        "rss_all_on_board_mb",
        "stream_lag_p99_ms",
        "targets",
    },
    "export": {"rows_per_s"},
    "api": {
        "posts_per_s",
        "orders_per_s_end_to_end",
        "ws_messages_per_s",
        "latency_p50_ms",
        "latency_p99_ms",
        "cpu_ms_per_order_all",
        "errors",
        "worker_log",
    },
}
SMALL = {
    "engine": ["--orders", "200"],
    "spec": ["--orders", "30"],
    "board": ["--orders", "100", "--loaded", "300"],
    "export": ["--orders", "500"],
    "api": ["--orders", "100", "--clients", "20"],
}


@pytest.mark.parametrize("bench", list(KEYS))
def test_bench_prints_its_json_keys(bench: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", bench, *SMALL[bench], "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert KEYS[bench] <= set(result)
    if bench == "api":
        assert result["errors"] == 0
        assert result["worker_log"] is None  # one process: no `dexdesk worker` to read
    if bench == "engine":
        # 200 orders, each at least two commits' worth of changes (SUBMITTED is waited for alone).
        assert result["commits"] >= 1
        assert result["changes_per_commit"] >= 1
        assert 0 < result["commit_in_flight_share"] <= 1
        assert 0 <= result["loop_busy_in_commits"] <= 1.05  # one thread's CPU over wall time, timers apart
    if bench == "spec":
        assert result["max_in_flight"] <= 10
        assert result["max_starts_per_window"] <= 100


def test_bench_api_with_issue_26_s_load_posts_only_and_reads_the_ends_from_the_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "api", "--orders", "100", "--clients", "20", "--follow", "none", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["errors"] == 0
    assert result["follow"] == "none"
    assert result["ws_messages"] == 0  # no order followed on a WebSocket
    assert result["orders_per_s_end_to_end"] > 0  # every order found ended in the database
    assert result["latency_p50_ms"] is None
