"""The commands that run orders in this process: `submit`, `run` and `resume`.

Apart from the commands that read or change stored orders (app/commands.py): these start an engine
(or a cluster producer), follow its updates to their end and report how the orders ended.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.arguments import pair_argument, reports_problems, slippage_fraction
from app.console import err, out, update_lines
from app.headless import settled_collector
from app.limits import MAX_RUN_ORDERS, ORDERS_RULE
from app.mirror_lines import MirrorReporter, say_where_updates_go
from app.run_tally import RunTally
from app.wiring import running_engine
from engine.cluster.config import ClusterUnavailable
from engine.config.settings import Settings
from engine.model.domain import Order, OrderStatus, OrderUpdate
from engine.model.exit_codes import ExitCode
from engine.model.jsonfmt import dumps
from engine.model.validation import FieldError, InvalidOrder, validate_order
from engine.trading.demo import each_random_request
from engine.trading.pairs import default_catalog


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
        slippage=slippage_fraction(args.slippage),
    )
    # One submit path in every mode: with a queue URL the engine is a cluster producer whose
    # orders `dexdesk worker`s run, bound, reserved and stored exactly as in one process.
    async with running_engine(settings, on_mirror_state=MirrorReporter()) as engine:
        printer = _UpdatePrinter(as_json=args.json, verbose=args.wait)
        # Readable lines show a worker's change with its order; JSON lines are the message itself.
        engine.subscribe(printer, snapshots="every" if printer.verbose and not printer.as_json else "none")
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
    pairs = [pair_argument(name) for name in args.pairs.split(",")] if args.pairs else None
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
            engine.subscribe(on_update, snapshots="ends")  # it reads orders at their end only
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
