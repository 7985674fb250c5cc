"""The Export dialog listing the database's own folder leaves SQLite's lock where it was (issue 24).

Qt's default icon provider MIME-sniffed `orders.db-wal` and `-shm` while listing them; the close
of that read dropped the desk's POSIX locks, and another process then checkpointed and deleted
the WAL the desk still wrote to. The lock is asked from another process, as that one would see it.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel
from PySide6.QtWidgets import QFileSystemModel, QLineEdit, QTreeView

from engine.model.domain import Direction
from engine.model.validation import OrderRequest
from engine.storage.report_reader import sqlite_file
from tests.lock_probe import lock_holders
from tests.ui.conftest import Desk


def test_the_export_dialog_on_the_databases_folder_keeps_the_lock(desk: Desk, tmp_path: Path) -> None:
    database = sqlite_file(desk.engine.store.url)
    assert database is not None
    desk.run(desk.engine.submit_many([OrderRequest("SOL-USDC", Decimal(1), Direction.BUY)]))
    desk.wait_idle()
    (database.parent / "last-week.csv").write_text("id\n")
    assert lock_holders(database) == (os.getpid(), os.getpid())

    dialog = desk.window.desk_actions.ask_export_all()
    model = dialog.findChild(QFileSystemModel)
    assert model is not None
    with desk.qtbot.waitSignal(model.directoryLoaded, timeout=10_000):
        dialog.setDirectory(str(database.parent))
    view = dialog.findChild(QTreeView, "treeView")
    assert view is not None
    proxy = view.model()
    assert isinstance(proxy, QSortFilterProxyModel)

    def listed() -> set[str]:
        root = view.rootIndex()
        return {proxy.index(row, 0, root).data() for row in range(proxy.rowCount(root))}

    desk.qtbot.waitUntil(lambda: "last-week.csv" in listed(), timeout=10_000)
    name_box = dialog.findChild(QLineEdit, "fileNameEdit")
    assert name_box is not None
    desk.qtbot.keyClicks(name_box, str(database.parent) + "/")  # the completer lists the folder too
    # Every row's icon and type asked for, as painting the list does.
    for row in range(proxy.rowCount(view.rootIndex())):
        for column in range(proxy.columnCount(view.rootIndex())):
            proxy.index(row, column, view.rootIndex()).data()
    desk.qtbot.waitUntil(lambda: name_box.completer().completionCount() >= 1, timeout=10_000)

    assert "last-week.csv" in listed()
    assert not listed() & {database.name, database.name + "-wal", database.name + "-shm"}, "never offered"
    assert lock_holders(database) == (os.getpid(), os.getpid()), "the desk still holds SQLite's lock"
    dialog.reject()

    desk.run(desk.engine.submit_many([OrderRequest("SOL-USDC", Decimal(1), Direction.SELL)]))
    desk.wait_idle()
    assert desk.engine.store.lock_losses == 0


def test_a_report_is_never_written_over_the_database(desk: Desk) -> None:
    database = sqlite_file(desk.engine.store.url)
    assert database is not None
    assert desk.run(desk.window.desk_actions.export_all_to(database)) == 0
    assert desk.window.statusBar().currentMessage() == (
        f"Export refused: {database} is the desk's database; choose another name"
    )
    assert desk.run(desk.engine.counts_by_status()) == {}


def test_a_lost_lock_is_said_at_once_and_the_next_order_takes_it_back(desk: Desk) -> None:
    database = sqlite_file(desk.engine.store.url)
    assert database is not None
    desk.run(desk.engine.submit_many([OrderRequest("SOL-USDC", Decimal(1), Direction.BUY)]))
    desk.wait_idle()
    for name in (database.name, database.name + "-wal", database.name + "-shm"):
        os.close(os.open(database.with_name(name), os.O_RDONLY))  # what the sniffing dialog did
    assert lock_holders(database) == (0, 0)

    with desk.qtbot.waitSignal(desk.window.toast.shown, timeout=5000) as said:
        pass
    assert said.args is not None
    assert said.args[0].startswith(f"Database: this process lost its lock on {database}")
    assert "lost its lock" in desk.window.status.database.text()

    desk.run(desk.engine.submit_many([OrderRequest("SOL-USDC", Decimal(1), Direction.SELL)]))
    desk.wait_idle()
    assert lock_holders(database) == (os.getpid(), os.getpid())
    assert desk.engine.store.lock_losses == 1
    assert sum(desk.run(desk.engine.counts_by_status()).values()) == 2
