"""`dexdesk`: one entry point for the desk and every command; the parser lives here, the work elsewhere."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from app.headless import fast_loop
from engine.model.exit_codes import ExitCode

# Everything heavy (pydantic, SQLAlchemy, the engine) is imported inside `main`, under
# `entry_point`'s Ctrl-C handling: an interrupt while modules load must not print a traceback.

GLOBAL_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--db",), {"dest": "db_url", "metavar": "URL", "help": "database URL (default: SQLite in the data directory)"}),
    (("--redis",), {"dest": "redis_url", "metavar": "URL", "help": "Redis URL for the external-listener mirror"}),
    (("--time-scale",), {"type": float, "metavar": "X", "help": "simulated waits × X (1 real time, 0 none)"}),
    (("--seed",), {"type": int, "metavar": "S", "help": "seed for the mock router (same seed, same outcomes)"}),
    (("--concurrency",), {"type": int, "metavar": "N", "help": "orders in flight at once (default 10)"}),
    (("--rate-limit",), {"type": int, "metavar": "N", "help": "attempt starts per window, 0 = off (default 100)"}),
    (
        ("--rate-window",),
        {"dest": "rate_window_s", "type": float, "metavar": "S", "help": "the rate limit's window (default 60 s)"},
    ),
    (
        ("--queue",),
        {"dest": "queue_url", "metavar": "URL", "help": "cluster mode: Redis URL of the queue `dexdesk worker`s run"},
    ),
]


_PROBLEMS = "2 bad input, bad settings or an unusable database (one line says which; nothing stored)"
_KEPT = "130 interrupted (Ctrl-C): unfinished orders are kept and resume with `dexdesk resume`"
# Every command's exit statuses, shown at the end of its --help and listed in the README.
EXIT_STATUSES = {
    "dexdesk": [
        "0 the desk was closed (or --version printed)",
        "1 the desk cannot start on this machine: a missing system library, no display, a broken Qt build",
        "2 bad settings or an unusable database",
    ],
    "submit": [
        "0 the order was CONFIRMED",
        "1 the order FAILED (its reason is printed; a limit order past --expires fails 'expired'), or it was "
        "CANCELLED by `dexdesk cancel`, the desk or the API before its swap was sent (printed with why); "
        "also when the database did not acknowledge the order: the line says `cannot tell whether … was stored`",
        "2 bad input, one line naming the field and its rule (also a paper-account shortfall); "
        "nothing stored; or bad settings or an unusable database",
        _KEPT,
    ],
    "run": [
        "0 every order reached its end; FAILED orders are outcomes of the simulation, counted in the summary",
        "1 the run itself could not finish: some orders' state could not be stored (`dexdesk resume` finishes them)",
        _PROBLEMS,
        _KEPT,
    ],
    "list": ["0 listed (also when no order matches)", _PROBLEMS],
    "show": ["0 shown", "2 no order (or more than one) has this id, bad settings or an unusable database"],
    "export": ["0 the file was written", _PROBLEMS],
    "resume": [
        "0 every unfinished order nobody else runs reached its end (or there was none)",
        _PROBLEMS,
        _KEPT,
    ],
    "watch": [
        "0 the followed order was CONFIRMED, or the reader went away (`dexdesk watch | head`)",
        "1 the followed order FAILED, or Redis cannot be reached",
        "2 no Redis URL, a malformed ORDER_ID, or Redis refused the connection",
        "130 interrupted (Ctrl-C)",
    ],
    "cancel": [
        "0 the order was CANCELLED (no swap was sent; its paper-account reserve, if any, released)",
        "1 too late: the swap was already SUBMITTED (a sent swap cannot be recalled) or the order had ended",
        "2 no order (or more than one) has this id, bad settings or an unusable database",
    ],
    "info": ["0 shown", "2 bad settings or an unusable database"],
    "serve": [
        "0 stopped by Ctrl-C or SIGTERM: orders in flight finished, queued ones resume on the next start",
        "2 cannot listen (port in use, another address without --token), bad settings or an unusable database",
    ],
    "worker": [
        "0 stopped (SIGTERM or Ctrl-C): attempts already started finished, waiting jobs went back to the queue",
        "2 no queue URL, a bad --lease, bad settings, or a database cluster mode cannot share (SQLite)",
    ],
    "account": [
        "0 shown (after `reset`, the account started over)",
        "2 no paper account yet, bad --balances, bad settings or an unusable database",
    ],
}


def exit_status_epilog(command: str) -> str:
    return "exit status:\n" + "\n".join(f"  {line}" for line in EXIT_STATUSES[command])


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    group = parser.add_argument_group("global options")
    for flags, options in GLOBAL_OPTIONS:
        group.add_argument(*flags, **{**options, **({"default": argparse.SUPPRESS} if suppress else {})})


def build_parser() -> argparse.ArgumentParser:
    from app import cluster_commands, commands, run_commands
    from app.account_cmd import add_account_command
    from app.bench.cli import add_bench_commands
    from app.serve import add_serve_command
    from app.serve import serve as serve_handler
    from app.watch import watch as watch_handler
    from engine.cluster.config import DEFAULT_LEASE_S

    parser = argparse.ArgumentParser(
        prog="dexdesk",
        description="DEX order execution simulator. With no command, opens the desk.",
        epilog=exit_status_epilog("dexdesk") + "\n\nEach command lists its own: dexdesk COMMAND --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the version, the schema revision it writes, and the database with its revision",
    )
    parser.add_argument("--demo", type=int, metavar="N", help="desk: submit N demo orders at time scale 0")
    parser.add_argument("--screenshot", metavar="FILE", help="desk: with --demo, save a screenshot when done and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does to stderr")
    _add_global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Callable[..., Any], help_text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=exit_status_epilog(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_global_options(child, suppress=True)
        child.set_defaults(handler=handler)
        return child

    submit = command("submit", run_commands.submit, "submit one order (market, or limit) and run it to its end")
    submit.add_argument("--pair", required=True, help="e.g. SOL-USDC (case-insensitive)")
    submit.add_argument("--amount", required=True, help="amount of the BASE token, e.g. 10.5")
    submit.add_argument("--direction", required=True, help="BUY or SELL (case-insensitive)")
    submit.add_argument("--type", default=None, help="market (default) or limit")
    submit.add_argument(
        "--limit-price", default=None, metavar="P", help="limit: QUOTE per BASE to buy at or below / sell at or above"
    )
    submit.add_argument("--expires", default=None, metavar="SECONDS", help="limit: give up after this many seconds")
    submit.add_argument(
        "--slippage", default=None, metavar="PERCENT", help="market: tolerance around the quote (default 1)"
    )
    submit.add_argument("--wait", action="store_true", help="print every update as it happens")
    submit.add_argument("--json", action="store_true", help="print update messages as JSON lines")

    run = command("run", run_commands.run, "submit N random orders at once and process them all")
    run.add_argument("--orders", type=int, required=True, metavar="N")
    run.add_argument("--pairs", help="comma-separated pairs to draw from (default: all)")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    run.set_defaults(loop_factory=fast_loop)  # headless: uvloop, like `serve`

    listing = command("list", commands.list_orders, "list orders, newest first")
    listing.add_argument("--status", help="only orders in this status")
    listing.add_argument("--pair", help="only orders of this pair")
    listing.add_argument("--limit", type=int, default=50, metavar="N", help="at most N orders (default 50, 0 = all)")
    listing.add_argument("--json", action="store_true", help="print one JSON array")

    show = command("show", commands.show, "show one order with its whole log")
    show.add_argument("order_id", metavar="ID", help="order id, or its first characters")
    show.add_argument("--json", action="store_true", help="print one JSON object")

    cancel = command("cancel", commands.cancel, "cancel an order before its swap is sent, whichever process runs it")
    cancel.add_argument("order_id", metavar="ID", help="order id, or its first characters")

    export = command("export", commands.export, "write the CSV report")
    export.add_argument("file", metavar="FILE.csv")
    export.add_argument("--status", help="only orders in this status")
    export.add_argument("--pair", help="only orders of this pair")

    command("resume", run_commands.resume, "finish every unfinished order and exit")
    watch = command(
        "watch",
        watch_handler,
        "print update messages from the Redis mirror (Redis only; with --db, an order's end is checked there too)",
    )
    watch.add_argument(
        "order_id", nargs="?", metavar="ORDER_ID", help="follow this order from its current state until it ends"
    )
    watch.set_defaults(interrupt_note=None)
    worker = command("worker", cluster_commands.worker, "run orders from the cluster queue (headless, until stopped)")
    worker.set_defaults(loop_factory=cluster_commands.worker_loop)
    worker.add_argument(
        "--lease",
        type=float,
        default=None,
        metavar="S",
        help=f"a dead worker's orders move on within S seconds (default: lease_s, {DEFAULT_LEASE_S:g})",
    )
    command("info", commands.info, "show version, schema revision, database, settings file and order counts")
    add_serve_command(command("serve", serve_handler, "serve the HTTP + WebSocket API on the engine (headless)"))
    add_account_command(command)
    add_bench_commands(sub, lambda child: _add_global_options(child, suppress=True))
    return parser


# Options whose value may start with "-" (`--amount -inf`): argparse would read it as an option.
_VALUE_OPTIONS = frozenset({"--amount", "--pair", "--direction", "--status", "--db", "--redis"})


def _attach_dash_values(argv: Sequence[str]) -> list[str]:
    """`--amount -1` becomes `--amount=-1`, so the value is checked by its rule, not taken for an option."""
    joined: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in _VALUE_OPTIONS and index + 1 < len(argv) and argv[index + 1].startswith("-"):
            joined.append(f"{word}={argv[index + 1]}")
            index += 2
            continue
        joined.append(word)
        index += 1
    return joined


async def version_lines(database_url: str) -> list[str]:
    """The schema lines of `--version`: the revision this release writes, and where the database stands.

    Only looks: a version check never creates, locks or upgrades a database (see engine.storage.revision).
    """
    from sqlalchemy.engine import make_url

    from engine.storage import DatabaseMissing, StorageUnavailable
    from engine.storage.migrate import head_revision
    from engine.storage.revision import schema_state

    try:
        state = (await schema_state(database_url)).describe()
    except DatabaseMissing:
        state = "does not exist yet: submit, run or the desk create it"
    except StorageUnavailable as error:
        state = f"revision unknown: {error}"
    return [
        f"schema revision: {head_revision()} (the newest this release writes)",
        f"database: {make_url(database_url).render_as_string(hide_password=True)} ({state})",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    from app import __version__
    from engine.config.settings import Settings, SettingsError, resolve

    parser = build_parser()
    args = parser.parse_args(_attach_dash_values(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    flags = {
        name: getattr(args, name, None)
        for name in (
            "db_url",
            "redis_url",
            "time_scale",
            "seed",
            "concurrency",
            "rate_limit",
            "rate_window_s",
            "queue_url",
        )
    }
    try:
        settings = resolve(flags)
    except SettingsError as error:
        print(f"dexdesk: {error}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.version:
        database_url = Settings.model_validate(settings.model_dump()).database_url
        print(f"dexdesk {__version__}")
        for line in asyncio.run(version_lines(database_url)):
            print(line)
        return ExitCode.OK
    handler = getattr(args, "handler", None)
    if handler is None:
        from app import commands

        return commands.desk(args, settings, parser)
    try:
        if getattr(args, "sync_handler", False):
            return int(handler(args, settings))  # benches run their own event loop (virtual time, Qt)
        choose_loop = getattr(args, "loop_factory", None)  # `serve` and `worker` run on uvloop where installed
        with asyncio.Runner(loop_factory=choose_loop() if choose_loop else None) as runner:
            return int(runner.run(_stopped_by_sigterm_too(handler(args, settings))))
    except (KeyboardInterrupt, asyncio.CancelledError):
        note = getattr(
            args, "interrupt_note", "interrupted: unfinished orders are kept and resume with `dexdesk resume`"
        )
        if note:
            print(note, file=sys.stderr)
        return ExitCode.INTERRUPTED


async def _stopped_by_sigterm_too(command: Awaitable[int]) -> int:
    """SIGTERM stops a command as Ctrl-C does (asyncio.Runner only handles SIGINT): same cleanup, same 130.

    `serve` and `worker` install their own handlers for both, which take over while they run.
    """
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await command
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def entry_point() -> None:
    """The console script. Ctrl-C at any point, even while modules are still importing, exits 130 quietly."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
