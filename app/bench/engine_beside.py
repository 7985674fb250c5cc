"""`bench cluster`'s in-process yardstick: `dexdesk bench engine` run beside each round's one-worker run.

Issue 21 item 7 holds a worker's CPU per order to 1.5× the in-process engine's. On this machine two
figures taken minutes apart drift by up to 2×, and the sessions that checked the target ran the two
benches by hand, alternately, and divided. Each round of `bench cluster` now runs `bench engine`
itself, as the process a user would run (its own loop, collector settings and scratch schema), on
the same database server with the same orders, concurrency and seed as the workers, and the
ratio is taken within the round.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess


async def engine_cpu_ms_per_order(dexdesk: str, db_url: str, orders: int, *, concurrency: int, seed: int) -> float:
    """`bench engine`'s CPU per order (the whole process) for `orders` orders on `db_url`'s server.

    `dexdesk` is the command the bench starts its workers with (the same build).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEXDESK_")}
    args = ["bench", "engine", "--orders", str(orders), "--db", db_url, "--json"]
    args += ["--concurrency", str(concurrency), "--seed", str(seed)]
    process = await asyncio.create_subprocess_exec(
        dexdesk, *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        said = err.decode(errors="replace").strip().splitlines()
        why = said[-1] if said else f"exit status {process.returncode}"
        raise SystemExit(f"dexdesk bench cluster: `bench engine` beside the workers failed: {why}")
    return float(json.loads(out)["cpu_ms_per_order"])
