"""`dexdesk bench window`: one line and status 1 without an X server; on one, the ping figures it prints.

The real-window run needs an X server with a window manager on DISPLAY and xdotool (Xvfb + openbox);
it is skipped with the reason when they are absent. No timing is asserted: the figures are the bench's.
"""

from __future__ import annotations

import json
import os

import pytest

from app.bench.window_bench import missing_tools
from app.cli import main

KEYS = {
    "burst_ping_p50_ms",
    "burst_ping_p99_ms",
    "burst_ping_max_ms",
    "burst_pings_over_50ms",
    "burst_stalls_over_50ms",
    "load_ping_max_ms",
    "rss_after_burst_mb",
    "rss_peak_mb",
}


def test_without_an_x_server_it_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert main(["bench", "window", "--orders", "5", "--loaded", "10"]) == 1
    said = capsys.readouterr()
    assert said.out == ""
    lines = said.err.strip().splitlines()
    assert len(lines) == 1, said.err
    assert lines[0].startswith("dexdesk bench window: needs an X server"), lines[0]


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("DISPLAY") or missing_tools() is not None, reason=str(missing_tools() or "no DISPLAY")
)
def test_on_a_real_x_server_it_pings_the_desk_through_a_burst(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "window", "--orders", "20", "--loaded", "500", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) >= KEYS
    assert result["burst_pings"] > 0, "the desk answered pings while the burst ran"
    assert result["burst_unanswered"] == 0
