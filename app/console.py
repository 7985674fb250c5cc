"""How orders and updates look in a terminal: one line per update, tables for lists."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from engine.model.domain import LogEntry, Order, OrderStatus, OrderUpdate, format_timestamp
from engine.model.jsonfmt import format_decimal
from engine.model.log_kinds import LogKind

# The commands' two streams: results on stdout (plain and wide when piped), everything said to the
# user on stderr, so `dexdesk … --json | jq` reads only results.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

STATUS_STYLE = {
    OrderStatus.PENDING: "yellow",
    OrderStatus.ROUTING: "cyan",
    OrderStatus.BUILDING: "blue",
    OrderStatus.SUBMITTED: "magenta",
    OrderStatus.CONFIRMED: "bold green",
    OrderStatus.FAILED: "bold red",
    OrderStatus.CANCELLED: "bold bright_black",
}


def update_lines(update: OrderUpdate) -> Text:
    """The update's log lines grouped under the state each belongs to, one timestamp per group.

    A BUILDING update carries the routing results (logged as ROUTING), so quotes and the chosen
    venue print on a ROUTING line, as a trader reads the sequence.
    """
    order = update.order
    entries = update.new_logs or (LogEntry(order.updated_at, order.status, LogKind.NOTE, ""),)
    text = Text()
    previous: OrderStatus | None = None
    for entry in entries:
        if entry.status is not previous:
            if previous is not None:
                text.append("\n")
            text.append(f"{format_timestamp(entry.timestamp)[11:23]}  ")
            text.append(f"{entry.status:<10}", style=STATUS_STYLE[entry.status])
            previous = entry.status
        else:
            text.append("\n" + " " * 24)
        text.append(f" {entry.message}")
    if order.status is OrderStatus.CONFIRMED and order.tx_hash:
        text.append("\n" + " " * 25 + f"txHash {order.tx_hash}")
    return text


def short(value: str | None, length: int = 8) -> str:
    return value[:length] if value else ""


def orders_table(orders: list[Order]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("created (UTC)", "left"),
        ("id", "left"),
        ("pair", "left"),
        ("side", "left"),
        ("amount", "right"),
        ("status", "left"),
        ("dex", "left"),
        ("exec price", "right"),
        ("txHash", "left"),
        ("att", "right"),
    )
    for title, justify in columns:
        table.add_column(title, justify=justify)
    for order in orders:
        table.add_row(
            format_timestamp(order.created_at)[:19].replace("T", " "),
            short(order.id),
            order.pair,
            Text(str(order.direction), style="green" if order.direction == "BUY" else "red"),
            format_decimal(order.amount),
            Text(str(order.status), style=STATUS_STYLE[order.status]),
            str(order.dex or ""),
            format_decimal(order.execution_price) if order.execution_price is not None else "",
            short(order.tx_hash, 12),
            str(order.attempts),
        )
    return table


def write_plain_table(orders: list[Order], stream: TextIO) -> None:
    """The same columns as `orders_table`, as fixed-width lines: fast for tens of thousands of orders."""
    header = ("created (UTC)", "id", "pair", "side", "amount", "status", "dex", "exec price", "txHash", "att")
    rows = [
        (
            format_timestamp(order.created_at)[:19].replace("T", " "),
            short(order.id),
            order.pair,
            str(order.direction),
            format_decimal(order.amount),
            str(order.status),
            str(order.dex or ""),
            format_decimal(order.execution_price) if order.execution_price is not None else "",
            short(order.tx_hash, 12),
            str(order.attempts),
        )
        for order in orders
    ]
    widths = [max(len(header[index]), *(len(row[index]) for row in rows)) for index in range(len(header))]
    right = {4, 7, 9}
    template = "  ".join(f"{{{index}:{'>' if index in right else '<'}{width}}}" for index, width in enumerate(widths))
    stream.write(template.format(*header).rstrip() + "\n")
    stream.writelines(template.format(*row).rstrip() + "\n" for row in rows)


def order_detail(order: Order, console: Console) -> None:
    fields = [
        ("id", order.id),
        ("pair", order.pair),
        ("direction", str(order.direction)),
        ("amount", format_decimal(order.amount)),
        ("status", str(order.status)),
        ("dex", str(order.dex or "-")),
        ("executionPrice", format_decimal(order.execution_price) if order.execution_price is not None else "-"),
        ("txHash", order.tx_hash or "-"),
        ("attempts", str(order.attempts)),
        ("error", order.error or "-"),
        ("createdAt", format_timestamp(order.created_at)),
        ("updatedAt", format_timestamp(order.updated_at)),
    ]
    for name, value in fields:
        console.print(Text(f"{name:>15}  ", style="bold"), Text(value), sep="")
    console.print()
    console.print(Text("log", style="bold"))
    for entry in order.logs:
        line = Text(f"  {format_timestamp(entry.timestamp)[11:23]}  ")
        line.append(f"{entry.status:<10}", style=STATUS_STYLE[entry.status])
        line.append(f" {entry.message}")
        console.print(line)
