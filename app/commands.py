"""What each `dexdesk` command does. Each handler returns the process's exit status."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url

from app import __version__, cluster_commands
from app.assembly import build_engine
from app.console import err, order_detail, orders_table, out, update_lines, write_plain_table
from app.headless import settled_collector
from app.limits import MAX_RUN_ORDERS, ORDERS_RULE
from app.mirror_lines import MirrorReporter, say_where_updates_go
from app.run_tally import RunTally
from app.wiring import build_mirror, open_store, running_engine, within_lock_wait
from engine.cluster.config import ClusterUnavailable
from engine.config.paths import data_dir, settings_path
from engine.config.settings import Settings
from engine.listeners.mirror_state import probe
from engine.model.domain import Order, OrderStatus, OrderUpdate
from engine.model.exit_codes import ExitCode
from engine.model.jsonfmt import dumps
from engine.model.validation import FieldError, InvalidOrder, validate_order, validate_pair
from engine.reporting.report_target import ReportTargetError, choose_target
from engine.reporting.reports import export_csv
from engine.storage import DatabaseMissing, StorageFailure, StorageUnavailable
from engine.storage.migrate import head_revision
from engine.trading.demo import each_random_request
from engine.trading.pairs import default_catalog

MIN_ID_PREFIX = 4
MAX_LIST_LIMIT = 1_000_000
RICH_TABLE_ROWS = 500
Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def reports_problems(handler: Handler) -> Handler:
    """Turn bad input and unusable databases into one clear line and exit status 2."""

    @wraps(handler)
    async def wrapper(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return await handler(args, settings)
        except InvalidOrder as error:
            # One line, every bad field named with its rule ("amount: …; direction: …"); nothing was stored.
            err.print(f"dexdesk: {error}", markup=False)
            return ExitCode.BAD_INPUT
        except (StorageUnavailable, ClusterUnavailable) as error:
            err.print(f"dexdesk: {error}", markup=False)
            return ExitCode.BAD_INPUT
        except StorageFailure as error:
            err.print(f"dexdesk: {error}", markup=False)
            return ExitCode.FAILED

    return wrapper


def _status_filter(raw: str | None) -> OrderStatus | None:
    if raw is None:
        return None
    name = raw.strip().upper()
    if name not in OrderStatus.__members__:
        raise InvalidOrder([FieldError("status", f"must be one of {', '.join(OrderStatus)}")])
    return OrderStatus(name)


def _pair(raw: str) -> str:
    result = validate_pair(raw, default_catalog())
    if isinstance(result, FieldError):
        raise InvalidOrder([result])
    return result


def _pair_filter(raw: str | None) -> str | None:
    return None if raw is None else _pair(raw)


@reports_problems
async def submit(args: argparse.Namespace, settings: Settings) -> int:
    request = validate_order(
        args.pair,
        args.amount,
        args.direction,
        default_catalog(),
        order_type=args.type,
        limit_price=args.limit_price,
        expires_in=args.expires,
        slippage=_slippage_fraction(args.slippage),
    )
    # One submit path in every mode: with a queue URL the engine is a cluster producer whose
    # orders `dexdesk worker`s run, bound, reserved and stored exactly as in one process.
    async with running_engine(settings, on_mirror_state=MirrorReporter()) as engine:
        printer = _UpdatePrinter(as_json=args.json, verbose=args.wait)
        engine.subscribe(printer)
        try:
            try:
                # The id is chosen before the first try to store it, so a try whose commit
                # acknowledgement was lost is recognised, never stored twice.
                order = (await engine.submit_many([request]))[0]
            except (InvalidOrder, ClusterUnavailable):
                raise  # refused before anything was stored (bad input, a shortfall, no queue): one line, exit 2
            except Exception as error:  # noqa: BLE001  (one line for the user, never a traceback)
                err.print(
                    f"dexdesk: cannot tell whether order {request.order_id} was stored ({error}); "
                    f"`dexdesk show {request.order_id}` will say",
                    markup=False,
                )
                return ExitCode.FAILED
            if not args.json:
                out.print(order.id, markup=False)
            printer.follow(order.id)
            final = await engine.wait_terminal(order.id)
        except asyncio.CancelledError:
            return ExitCode.INTERRUPTED
    if not args.json and not args.wait:
        if final.logs:
            out.print(update_lines(OrderUpdate({}, final, final.logs[-1:])))
        else:  # ended elsewhere (another process's cancel): the stored order carries its reason
            out.print(f"{final.id} {final.status}: {_ending_reason(final)}", markup=False)
    return ExitCode.OK if final.status is OrderStatus.CONFIRMED else ExitCode.FAILED


def _ending_reason(order: Order) -> str:
    if order.error:
        return order.error
    if order.status is OrderStatus.CANCELLED:
        return "cancelled before its swap was sent (by `dexdesk cancel`, the desk or the API)"
    return "ended"


def _slippage_fraction(percent: str | None) -> object:
    """`--slippage 0.5` means 0.5 %; validation takes a fraction and names the field."""
    if percent is None:
        return None
    try:
        if percent != percent.strip():
            raise InvalidOperation
        return Decimal(percent) / 100
    except InvalidOperation:
        raise InvalidOrder([FieldError("slippage", "must be a percentage, e.g. 0.5 for 0.5 %")]) from None


class _UpdatePrinter:
    """Prints the followed order's updates: contract JSON lines, or readable lines with --wait."""

    def __init__(self, *, as_json: bool, verbose: bool) -> None:
        self.as_json = as_json
        self.verbose = verbose
        self.order_id: str | None = None
        self.early: list[OrderUpdate] = []

    def follow(self, order_id: str) -> None:
        self.order_id = order_id
        for update in self.early:
            self(update)
        self.early.clear()

    def __call__(self, update: OrderUpdate) -> None:
        if self.order_id is None:
            self.early.append(update)
            return
        if update.order_id != self.order_id:
            return
        if self.as_json:
            sys.stdout.write(update.text + "\n")
            sys.stdout.flush()
        elif self.verbose:
            out.print(update_lines(update))


RUN_CHUNK = 2000  # orders `run` makes and submits at a time


@reports_problems
async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.orders <= MAX_RUN_ORDERS:
        raise InvalidOrder([FieldError("orders", ORDERS_RULE)])
    pairs = [_pair(name) for name in args.pairs.split(",")] if args.pairs else None
    requests = each_random_request(default_catalog(), args.orders, seed=settings.seed, pairs=pairs)
    say_where_updates_go(args, settings)
    async with running_engine(settings, on_mirror_state=MirrorReporter()) as engine:
        tally = RunTally()
        ours: set[str] = set()
        progress = Progress(
            TextColumn("[bold]orders"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=err,
            disable=args.json,
            transient=False,
        )
        task = progress.add_task("orders", total=args.orders, detail="")

        def on_update(update: OrderUpdate) -> None:
            if update.status.is_terminal and update.order_id in ours:
                tally.add(update.order)
                stats = engine.stats()
                progress.update(
                    task,
                    completed=len(tally.ended),
                    detail=f"in flight {stats.in_flight}/{stats.concurrency}  queued {stats.waiting}",
                )

        with settled_collector():  # the engine and the market live as long as the run
            engine.subscribe(on_update)
            started = time.perf_counter()
            # Stored before the bar appears: a database that refuses leaves one line, not a bar too.
            # In chunks, made as they are sent: 100,000 requests and their orders are never all in memory.
            while chunk := list(itertools.islice(requests, RUN_CHUNK)):
                ours.update(order.id for order in await engine.submit_many(chunk))
            with progress:
                # Idle: every order reached its end, or stopped short because its state could not be stored.
                await engine.wait_idle()
                elsewhere = 0
                for order_id in ours - tally.ended:
                    stored = await engine.order(order_id)
                    if stored is not None and stored.is_terminal:
                        tally.add(stored)
                    elif stored is not None and stored.owner not in (None, engine.owner_id):
                        elsewhere += 1  # taken over by another process (this one stalled past its lease)
            wall = time.perf_counter() - started
    summary = tally.summary(wall)
    if args.json:
        print(dumps(summary))
    else:
        _print_summary(summary)
    if elsewhere:
        err.print(f"dexdesk: {elsewhere} of {len(ours)} orders are being finished by another process", markup=False)
    stopped = len(ours) - len(tally.ended) - elsewhere
    if stopped:
        err.print(
            f"dexdesk: {stopped} of {len(ours)} orders stopped short: their state could not be stored; "
            "they keep their last stored state and `dexdesk resume` finishes them",
            markup=False,
        )
        return ExitCode.FAILED
    # FAILED orders are outcomes the simulation produces on purpose (network failures, slippage),
    # already in the summary; they do not make the run a failure.
    return ExitCode.OK


def _print_summary(summary: dict[str, Any]) -> None:
    shares = "  ".join(f"{venue} {share:.1%}" for venue, share in summary["venueShare"].items()) or "-"
    out.print(
        f"{summary['orders']} orders: [green]{summary['confirmed']} confirmed[/], "
        f"[red]{summary['failed']} failed[/], {summary['retried']} retried"
        + (f", {summary['cancelled']} cancelled" if summary["cancelled"] else "")
    )
    out.print(f"venue share: {shares}")
    out.print(f"{summary['ordersPerSecond']} orders/s, wall time {summary['wallSeconds']:.2f} s")


@reports_problems
async def resume(args: argparse.Namespace, settings: Settings) -> int:
    if settings.queue_url:
        out.print(
            "cluster mode: `dexdesk worker` processes resume unfinished orders "
            "(each re-queues the ones without a job when it starts); nothing to do here",
            markup=False,
        )
        return ExitCode.OK
    async with running_engine(settings, on_mirror_state=MirrorReporter(), lock_wait_s=settings.lease_s) as engine:
        await engine.wait_abandoned()
        await engine.wait_idle()
        count = engine.resumed
        others = await engine.others_active_count()
    resumed = f"resumed {count} unfinished order{'s' if count != 1 else ''}"
    if others:
        # Not "none left": those orders are unfinished still, run (and finished) by their own processes.
        orders = f"{others} other unfinished order{'s are' if others != 1 else ' is'}"
        out.print(f"{resumed}; {orders} run by other live processes")
    else:
        out.print(f"{resumed}; none left")
    return ExitCode.OK


@reports_problems
async def list_orders(args: argparse.Namespace, settings: Settings) -> int:
    status, pair = _status_filter(args.status), _pair_filter(args.pair)
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
    status, pair = _status_filter(args.status), _pair_filter(args.pair)
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
