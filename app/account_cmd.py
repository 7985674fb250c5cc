"""`dexdesk account`: the paper account's balances, positions and PnL; `account reset` starts it over."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from app.arguments import reports_problems
from app.assembly import build_engine
from app.console import err, out
from engine.account.model import DEFAULT_START
from engine.account.view import AccountView
from engine.config.settings import Settings
from engine.model.exit_codes import ExitCode
from engine.model.jsonfmt import dumps
from ui.formatting import PairFormats


def add_account_command(command: object) -> None:
    """Register `account [reset --balances …]` through cli.py's `command(name, handler, help)` helper."""
    parser: argparse.ArgumentParser = command(  # type: ignore[operator]
        "account", account, "show the paper account: balances, positions, PnL and fees; `account reset` starts it over"
    )
    parser.add_argument("action", nargs="?", choices=["reset"], help="reset: start the account over")
    parser.add_argument(
        "--balances",
        default=None,
        metavar="TOKEN=AMOUNT,…",
        help=f"with reset: the starting balances (default {DEFAULT_START})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


@reports_problems
async def account(args: argparse.Namespace, settings: Settings) -> int:
    engine = build_engine(settings)
    await engine.open_for_reading()
    try:
        if args.action == "reset":
            await engine.reset_account(args.balances or DEFAULT_START)
            err.print("dexdesk: paper account started over", markup=False)
        elif args.balances is not None:
            err.print("dexdesk: --balances: only with `account reset`", markup=False)
            return ExitCode.BAD_INPUT
        view = await engine.account()
    finally:
        await engine.store.close()
    if view is None:
        err.print("dexdesk: no paper account yet; start one with `dexdesk account reset --balances USDC=10000,SOL=10`")
        return ExitCode.BAD_INPUT
    if args.json:
        print(dumps(view.to_json()))
    else:
        print_account(view, out, PairFormats(engine.catalog))
    return ExitCode.OK


def print_account(view: AccountView, console: Console, formats: PairFormats) -> None:
    """Each amount at its token's decimals, each price at its pair's, thousands grouped (as the desk shows them)."""
    money = formats.token
    balances = Table(title="Balances", title_justify="left")
    for name in ("Token", "Total", "Reserved", "Available"):
        balances.add_column(name, justify="left" if name == "Token" else "right")
    for balance in view.balances:
        token = balance.token
        balances.add_row(
            token, money(token, balance.total), money(token, balance.reserved), money(token, balance.available)
        )
    console.print(balances)
    if not view.positions:
        console.print("no fills yet: no positions")
        return
    positions = Table(title="Positions", title_justify="left")
    for name in ("Pair", "Size", "Avg cost", "Mark", "Realized", "Unrealized", "Fees", "Fills"):
        positions.add_column(name, justify="left" if name == "Pair" else "right")
    for position in view.positions:
        pair, quote = position.pair, position.quote
        positions.add_row(
            pair,
            formats.amount(pair, position.size),
            formats.price(pair, position.average_cost),
            formats.price(pair, position.mark) or "-",
            money(quote, position.realized),
            money(quote, position.unrealized),
            money(quote, position.fees),
            f"{position.fills:,}",
        )
    console.print(positions)
    for currency, (realized, unrealized, fees) in sorted(view.pnl_by_currency().items()):
        console.print(
            f"PnL in {currency}: realized {money(currency, realized)}, unrealized {money(currency, unrealized)}, "
            f"fees paid {money(currency, fees)}",
            markup=False,
        )
