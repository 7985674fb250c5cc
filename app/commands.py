"""What the `dexdesk` commands that read or change stored orders do: list, show, cancel, export, info; and the desk.

Each handler returns the process's exit status. The commands that run orders (`submit`, `run`,
`resume`) are in app/run_commands.py; how arguments are read and bad input reported, in app/arguments.py.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy.engine import make_url

from app import __version__, cluster_commands
from app.arguments import pair_filter, reports_problems
from app.assembly import build_engine
from app.console import err, order_detail, orders_table, out, write_plain_table
from app.limits import MAX_RUN_ORDERS, ORDERS_RULE
from app.wiring import build_mirror, open_store, within_lock_wait
from engine.config.paths import data_dir, settings_path
from engine.config.settings import Settings
from engine.listeners.mirror_state import probe
from engine.model.domain import OrderStatus
from engine.model.exit_codes import ExitCode
from engine.model.jsonfmt import dumps
from engine.model.validation import FieldError, InvalidOrder, status_filter
from engine.reporting.report_target import ReportTargetError, choose_target
from engine.reporting.reports import export_csv
from engine.storage import DatabaseMissing
from engine.storage.migrate import head_revision

MIN_ID_PREFIX = 4
MAX_LIST_LIMIT = 1_000_000
RICH_TABLE_ROWS = 500


@reports_problems
async def list_orders(args: argparse.Namespace, settings: Settings) -> int:
    status, pair = status_filter(args.status), pair_filter(args.pair)
    if not 0 <= args.limit <= MAX_LIST_LIMIT:
        raise InvalidOrder([FieldError("limit", f"must be 0 (all) to {MAX_LIST_LIMIT:,}")])
    async with open_store(settings) as store:
        orders = await store.list_orders(status=status, pair=pair, limit=args.limit or None)
    if args.json:
        print(dumps([order.to_json(with_logs=False) for order in orders]))
    elif len(orders) > RICH_TABLE_ROWS:
        write_plain_table(orders, sys.stdout)  # rich lays out every cell: 40 s for 20,000 orders
    elif orders:
        out.print(orders_table(orders))
    else:
        out.print("no orders")
    return ExitCode.OK


@reports_problems
async def show(args: argparse.Namespace, settings: Settings) -> int:
    prefix = args.order_id.strip()
    if len(prefix) < MIN_ID_PREFIX:
        raise InvalidOrder([FieldError("ID", f"type at least {MIN_ID_PREFIX} characters of the order id")])
    async with open_store(settings) as store:
        order = await store.get(await _one_order_id(store, args.order_id))
    assert order is not None
    if args.json:
        print(dumps(order.to_json(), indent=2))
    else:
        order_detail(order, out)
    return ExitCode.OK


async def _one_order_id(store: Any, raw: str) -> str:
    """The full id of the one order whose id starts with `raw` (what `show` and `cancel` accept)."""
    matches = await store.find_by_prefix(raw.strip())
    if len(matches) != 1:
        problem = "no order has this id" if not matches else "more than one order starts with this; type more of it"
        raise InvalidOrder([FieldError("ID", problem)])
    return str(matches[0])


@reports_problems
async def cancel(args: argparse.Namespace, settings: Settings) -> int:
    """Cancel one order, whichever process runs it; exit 0 cancelled, 1 too late, 2 unknown id."""
    engine = build_engine(settings)
    await engine.store.open()
    mirror = build_mirror(settings)
    if mirror is not None:
        mirror.attach(engine)
        mirror.start()
    try:
        order_id = await _one_order_id(engine.store, args.order_id)
        result = await within_lock_wait(engine.store, settings.lease_s, engine.cancel(order_id))
    finally:
        await engine.store.close()
        if mirror is not None:
            await mirror.stop()
    if result.outcome == "cancelled":
        out.print(f"{order_id} CANCELLED: {result.reason}", markup=False)
        return ExitCode.OK
    if result.outcome == "unknown":
        raise InvalidOrder([FieldError("ID", "no order has this id")])
    err.print(f"dexdesk: cannot cancel {order_id}: {result.reason}", markup=False)
    return ExitCode.FAILED


@reports_problems
async def export(args: argparse.Namespace, settings: Settings) -> int:
    status, pair = status_filter(args.status), pair_filter(args.pair)
    try:
        target = choose_target(args.file)
    except ReportTargetError as error:
        raise InvalidOrder([FieldError("FILE", str(error))]) from None
    async with open_store(settings) as store:
        try:
            rows = await export_csv(store, target, status=status, pair=pair)
        except BrokenPipeError:
            return ExitCode.OK  # the reader went away (`dexdesk export - | head`): nothing more to say
        except OSError as error:
            err.print(f"dexdesk: cannot write {args.file}: {error.strerror or error}", markup=False)
            return ExitCode.FAILED
    # Standard output carries the report itself, so the note goes to stderr there.
    (err if target.to_stdout else out).print(f"wrote {rows} orders to {target.shown}", markup=False)
    return ExitCode.OK


@reports_problems
async def info(args: argparse.Namespace, settings: Settings) -> int:
    out.print(f"dexdesk {__version__}", markup=False)
    out.print(f"database: {make_url(settings.database_url).render_as_string(hide_password=True)}", markup=False)
    out.print(f"data directory: {data_dir()}", markup=False)
    out.print(f"settings file: {settings_path()}", markup=False)
    try:
        async with open_store(settings) as store:
            counts = await store.counts_by_status()
            revision = store.schema_revision
            upgraded = f" (upgraded from {store.upgraded_from} just now)" if store.upgraded_from else ""
    except DatabaseMissing:
        out.print(f"schema revision: {head_revision()} (the newest this release writes); no database yet", markup=False)
        out.print("orders: none yet: the database does not exist (submit, run or the desk create it)", markup=False)
    else:
        out.print(
            f"schema revision: {head_revision()} (the newest this release writes); database at {revision}{upgraded}",
            markup=False,
        )
        summary = ", ".join(f"{counts.get(status, 0)} {status}" for status in OrderStatus)
        out.print(f"orders: {summary}", markup=False)
    out.print(await _mirror_line(settings), markup=False)
    for line in await cluster_commands.info_lines(settings):
        out.print(line, markup=False)
    return ExitCode.OK


async def _mirror_line(settings: Settings) -> str:
    if not settings.redis_url:
        return "redis mirror: off (no Redis URL: --redis URL or DEXDESK_REDIS_URL)"
    state, active = await probe(settings.redis_url, settings.redis_prefix)
    if not state.connected:
        return f"redis mirror: disconnected from {state.url} ({state.reason})"
    return f"redis mirror: connected to {state.url}; keys {settings.redis_prefix}:*, {active} active orders mirrored"


def desk(args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser) -> int:
    """No command: the desktop app."""
    if args.demo is not None and not 1 <= args.demo <= MAX_RUN_ORDERS:
        err.print(f"dexdesk: --demo: {ORDERS_RULE}", markup=False)
        return ExitCode.BAD_INPUT
    if args.screenshot is not None and args.demo is None:
        parser.error("--screenshot needs --demo N (the screenshot is taken when the demo orders are done)")
    from app.desk import launch, screenshot_problem  # Qt is imported only when the desk opens

    if args.screenshot is not None:
        problem = screenshot_problem(args.screenshot)
        if problem:
            err.print(f"dexdesk: --screenshot: {problem}", markup=False)
            return ExitCode.BAD_INPUT
    return launch(args, settings)
