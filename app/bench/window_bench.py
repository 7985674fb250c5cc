"""`dexdesk bench window`: the real desk in a real X window, pinged as a window manager pings it, while a burst streams.

Issue 24's item 6: "a 300-order burst streaming over a 100k board in a real window with no GUI stall
over 50 ms (the `_NET_WM_PING` round trip)". Offscreen benches time the asyncio loop from inside the
process; this one asks from outside, as the window manager does when it decides a window is "not
responding":

1. a scratch SQLite database is filled with `--loaded` finished orders (as `bench board` fills it);
2. `dexdesk` opens on it as its own process (time scale 0, no rate limit, a fresh config folder so
   the default layout at the screen's size) on the X server named by DISPLAY;
3. a thread sends `_NET_WM_PING` to the desk's top-level window every 10 ms and times each reply
   (app/bench/x11_ping.py) — from the window's first map, through the history load, to the end;
4. once every stored order is on the board (the title no longer says "loading older orders") and
   the desk's CPU is quiet, xdotool opens Order → Burst…
   (Ctrl+Shift+B), types N and presses Enter, as a trader does; the bench reads the database until
   the burst's N orders are stored and every one has ended, then pings one more second;
5. RSS (now and peak) is read from /proc, and the desk is quit with Ctrl+Q.

Each round trip is also split, from the GUI thread's /proc schedstat read at send and at reply,
into the time that thread ran on a CPU and the time it waited on a run queue: on a machine other
work loads, a late reply is often the desk not being scheduled, and the on-CPU part is the stall
the desk makes itself (`*_on_cpu_*`).

Needs an X server with a window manager (`Xvfb :99 -screen 0 1366x768x24 & openbox &`, DISPLAY=:99)
and xdotool; without them it says so in one line and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from app.bench.databases import fill, scratch_database
from app.bench.report import emit, percentile
from app.bench.x11_ping import Display, NoDisplay, Pinger, PingLog
from engine.model.domain import ACTIVE_STATES
from engine.model.exit_codes import ExitCode
from engine.storage import OrderStore

STALL_S = 0.050  # a reply later than this is a stall a trader can feel (issue 24's bound)
PING_EVERY_S = 0.010
QUIET_SHARE = 0.30  # the desk is settled when it uses under 30 % of a core ...
QUIET_SAMPLES = 3  # ... over three half-second samples in a row
LOADING = "loading older orders"  # in the desk's title while the board is not whole (ui/main_window.py)
FIRST_PAGE = 1000  # the desk's first history page (ui/history_loader.py): more, and older pages follow
WAIT_S = 300.0  # for the window, the history load and the burst, each


class BenchFailed(Exception):
    """The desk did not do what the bench drove it to do (no window, no burst): said in one line."""


def missing_tools() -> str | None:
    """Why this bench cannot run here (no X server, no window manager, no xdotool), or None."""
    if not os.environ.get("DISPLAY"):
        return "needs an X server with a window manager: DISPLAY is not set (e.g. `Xvfb :99 & openbox &`, DISPLAY=:99)"
    try:
        display = Display()
    except NoDisplay as problem:
        return f"needs an X server with a window manager: {problem} ({os.environ['DISPLAY']})"
    try:
        if not display.has_window_manager():
            return "needs a window manager on the X server (e.g. `openbox &`): it keeps the window list pinged"
    finally:
        display.close()
    if shutil.which("xdotool") is None:
        return "needs xdotool on PATH to press the desk's keys (apt-get install xdotool)"
    return None


@dataclass
class Phase:
    """The pings sent between two moments, and what they say."""

    name: str
    round_trips: list[float]
    unanswered: int
    ran: list[float]  # of each round trip, the desk's GUI thread on a CPU
    waited: list[float]  # ... and waiting on a run queue for one (the machine's load)

    @classmethod
    def between(cls, name: str, log: PingLog, start: float, end: float) -> Phase:
        sent = [at for at, _trip in log.round_trips if start <= at < end]
        trips = [trip for at, trip in log.round_trips if start <= at < end]
        lost = sum(1 for at in log.unanswered if start <= at < end)
        ran = [log.on_cpu.get(at, (0.0, 0.0))[0] for at in sent]
        waited = [log.on_cpu.get(at, (0.0, 0.0))[1] for at in sent]
        return cls(name, trips, lost, ran, waited)

    def stalls(self) -> list[float]:
        """Each run of consecutive replies later than STALL_S is one stall; its length is the run's longest reply."""
        runs: list[float] = []
        current = 0.0
        for trip in self.round_trips:
            if trip > STALL_S:
                current = max(current, trip)
            elif current:
                runs.append(current)
                current = 0.0
        if current:
            runs.append(current)
        return runs

    def figures(self) -> dict[str, Any]:
        trips = self.round_trips
        stalls = self.stalls()
        return {
            f"{self.name}_pings": len(trips),
            f"{self.name}_ping_p50_ms": percentile(trips, 0.5) * 1000,
            f"{self.name}_ping_p99_ms": percentile(trips, 0.99) * 1000,
            f"{self.name}_ping_max_ms": max(trips, default=0.0) * 1000,
            f"{self.name}_pings_over_50ms": sum(1 for trip in trips if trip > STALL_S),
            f"{self.name}_stalls_over_50ms": len(stalls),
            f"{self.name}_stalls_over_100ms": sum(1 for stall in stalls if stall > 0.1),
            f"{self.name}_unanswered": self.unanswered,
            # The load-independent part: how long the desk's own work held its GUI thread within a round trip.
            f"{self.name}_ping_max_on_cpu_ms": max(self.ran, default=0.0) * 1000,
            f"{self.name}_ping_p99_on_cpu_ms": percentile(self.ran, 0.99) * 1000,
            f"{self.name}_pings_over_50ms_on_cpu": sum(1 for ran in self.ran if ran > STALL_S),
            f"{self.name}_late_pings_run_queue_share": (
                sum(w for w, t in zip(self.waited, trips, strict=True) if t > STALL_S)
                / max(sum(t for t in trips if t > STALL_S), 1e-9)
            ),
        }


def _xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=30, stdout=subprocess.DEVNULL)


def _desk_command(url: str) -> list[str]:
    """The desk as `dexdesk` runs it, from this interpreter (the virtualenv's console script may not be on PATH)."""
    start = "import sys; from app.cli import entry_point; sys.argv[0] = 'dexdesk'; entry_point()"
    return [sys.executable, "-c", start, "--db", url, "--time-scale", "0", "--rate-limit", "0", "--seed", "0"]


async def _until(what: str, check: Any, within_s: float = WAIT_S, every: float = 0.1) -> Any:
    """Poll `check()` (sync or async) until it gives something true; BenchFailed naming `what` after `within_s`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        got = check()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return got
        await asyncio.sleep(every)
    raise BenchFailed(f"gave up after {within_s:.0f} s waiting for {what}")


async def _quiet(process: psutil.Process) -> None:
    """Until the desk's CPU stays under QUIET_SHARE of a core for QUIET_SAMPLES half-seconds in a row."""
    quiet = 0
    deadline = time.monotonic() + WAIT_S
    last = sum(process.cpu_times()[:2])
    while quiet < QUIET_SAMPLES:
        if time.monotonic() > deadline:
            raise BenchFailed("gave up waiting for the desk to settle after loading its history")
        await asyncio.sleep(0.5)
        now = sum(process.cpu_times()[:2])
        quiet = quiet + 1 if now - last < 0.5 * QUIET_SHARE else 0
        last = now


def _launch(url: str, environment: dict[str, str], sink: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(_desk_command(url), env=environment, stdout=sink, stderr=subprocess.STDOUT)


def _memory(pid: int) -> tuple[float, float]:
    """The desk's resident memory now and its peak (VmHWM), in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def _measure(count: int, loaded: int) -> dict[str, Any]:
    async with scratch_database(None) as url:
        store = OrderStore(url)
        await store.open()
        await fill(store, loaded)
        with tempfile.TemporaryDirectory(prefix="dexdesk-bench-window-") as home:
            environment = {
                **os.environ,
                "XDG_CONFIG_HOME": str(Path(home) / "config"),  # default layout and settings, not the user's
                "XDG_DATA_HOME": str(Path(home) / "data"),
                "QT_QPA_PLATFORM": "xcb",
            }
            output = Path(home) / "desk.log"  # a file, not a pipe: a full pipe would stall the desk itself
            with output.open("wb") as sink:
                desk = _launch(url, environment, sink)
                try:
                    return await _drive(desk, store, count, loaded)
                except BenchFailed as failed:
                    said = output.read_text(errors="replace").strip().splitlines()[-3:]
                    raise BenchFailed(f"{failed}{'; the desk said: ' + ' / '.join(said) if said else ''}") from None
                finally:
                    await store.close()
                    _quit(desk)


async def _drive(desk: subprocess.Popen[bytes], store: OrderStore, count: int, loaded: int) -> dict[str, Any]:
    display = Display()
    t_launch = time.perf_counter()

    def desk_window() -> int | None:
        if desk.poll() is not None:
            raise BenchFailed(f"the desk exited with status {desk.returncode} before showing its window")
        found = [window for window in display.windows_of(desk.pid) if display.answers_ping(window)]
        return found[0] if found else None

    window: int = await _until("the desk's window", desk_window, every=0.02)
    pinger = Pinger(window, PING_EVERY_S, schedstat=f"/proc/{desk.pid}/task/{desk.pid}/schedstat")
    pinger.start()
    t_mapped = time.perf_counter()
    try:
        if loaded > FIRST_PAGE:  # the newest page first; the title says so while older ones follow
            await _until("the desk's title to say it loads older orders", lambda: LOADING in display.text(window))
            await _until("the desk's history", lambda: LOADING not in display.text(window), every=0.05)
        await _quiet(psutil.Process(desk.pid))
        t_loaded = time.perf_counter()
        rss_loaded, _ = _memory(desk.pid)
        before = set(display.windows_of(desk.pid))
        _xdotool("windowactivate", "--sync", str(window))
        _xdotool("key", "--clearmodifiers", "ctrl+shift+b")
        await _until("the Burst dialog", lambda: set(display.windows_of(desk.pid)) - before, within_s=30)
        await asyncio.sleep(0.5)  # the dialog reads the balances once before its OK is enabled
        _xdotool("key", "--clearmodifiers", "ctrl+a")
        _xdotool("type", "--delay", "20", str(count))
        await asyncio.sleep(0.3)
        _xdotool("key", "--clearmodifiers", "Return")
        t_burst = time.perf_counter()

        async def burst_done() -> bool:
            counts = await store.counts_by_status()
            return sum(counts.values()) >= loaded + count and not any(counts.get(s) for s in ACTIVE_STATES)

        await _until(f"the burst's {count:,} orders to end", burst_done, every=0.25)
        t_done = time.perf_counter()
        await asyncio.sleep(1.0)  # the board, chart, account and fills catch up: still pinged
        t_end = time.perf_counter()
        rss_after, rss_peak = _memory(desk.pid)
    finally:
        log = pinger.stop()
        display.close()
    phases = [
        Phase.between("load", log, t_mapped, t_loaded),
        Phase.between("burst", log, t_burst, t_end),
    ]
    result: dict[str, Any] = {
        "orders": count,
        "loaded": loaded,
        "window_s": t_mapped - t_launch,
        "history_settled_s": t_loaded - t_launch,
        "burst_s": t_done - t_burst,
        "rss_loaded_mb": rss_loaded,
        "rss_after_burst_mb": rss_after,
        "rss_peak_mb": rss_peak,
    }
    for phase in phases:
        result.update(phase.figures())
    return result


def _quit(desk: subprocess.Popen[bytes]) -> None:
    """Ctrl+Q as a trader quits; if the desk is still there after 20 s, it is terminated."""
    if desk.poll() is None:
        try:
            _xdotool("key", "--clearmodifiers", "ctrl+q")
            desk.wait(20)
        except (subprocess.SubprocessError, OSError):
            desk.terminate()
            try:
                desk.wait(10)
            except subprocess.TimeoutExpired:
                desk.kill()
                desk.wait()


def _rows(result: dict[str, Any]) -> Sequence[tuple[str, str]]:
    def pings(name: str) -> str:
        return (
            f"{result[f'{name}_ping_p50_ms']:.1f} / {result[f'{name}_ping_p99_ms']:.1f} / "
            f"{result[f'{name}_ping_max_ms']:.1f} ms ({result[f'{name}_pings']:,} pings"
            f"{f', {n} unanswered' if (n := result[f'{name}_unanswered']) else ''})"
        )

    def stalls(name: str) -> str:
        return (
            f"{result[f'{name}_stalls_over_50ms']} ({result[f'{name}_pings_over_50ms']} late pings), "
            f"{result[f'{name}_stalls_over_100ms']} over 100 ms"
        )

    return [
        (f"burst of {result['orders']:,} over {result['loaded']:,} stored", f"all ended in {result['burst_s']:.1f} s"),
        ("burst: ping p50 / p99 / max", pings("burst")),
        ("burst: stalls over 50 ms", stalls("burst")),
        (
            "burst: the desk's own CPU in a round trip",
            f"p99 {result['burst_ping_p99_on_cpu_ms']:.1f} / max {result['burst_ping_max_on_cpu_ms']:.1f} ms, "
            f"{result['burst_pings_over_50ms_on_cpu']} pings over 50 ms; late pings spent "
            f"{result['burst_late_pings_run_queue_share']:.0%} waiting for a CPU",
        ),
        ("history load: ping p50 / p99 / max", pings("load")),
        ("history load: stalls over 50 ms", stalls("load")),
        ("window shown / history settled", f"{result['window_s']:.1f} s / {result['history_settled_s']:.1f} s"),
        (
            "RSS loaded / after the burst / peak",
            f"{result['rss_loaded_mb']:.0f} / {result['rss_after_burst_mb']:.0f} / {result['rss_peak_mb']:.0f} MB",
        ),
    ]


def main(args: argparse.Namespace) -> int:
    problem = missing_tools()
    if problem:
        print(f"dexdesk bench window: {problem}", file=sys.stderr)
        return ExitCode.FAILED
    if getattr(args, "db_url", None):
        print("dexdesk bench window: runs on a scratch SQLite file; --db is not used", file=sys.stderr)
    loaded = args.loaded if args.loaded is not None else 100_000
    try:
        result = asyncio.run(_measure(args.orders, loaded))
    except BenchFailed as failed:
        print(f"dexdesk bench window: {failed}", file=sys.stderr)
        return ExitCode.FAILED
    emit("dexdesk bench window", result, _rows(result), as_json=args.json)
    return 0
