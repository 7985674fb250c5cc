"""The Export dialog, which never opens a file it lists: the SQLite database's least of all.

Qt's file dialog asks its icon provider for each listed file's icon and type, and the default
provider finds them with QMimeDatabase, which reads the first bytes of any file whose name it does
not know (`desk.db-wal`, `desk.db-shm`). That open and close in the desk's process dropped SQLite's
POSIX lock on the database (issue 24; /proc/locks 2 entries → 0 as soon as the folder was listed,
typing it in File name was enough). The provider here answers from the name and stat() alone, and
a proxy hides the database's own files, so they can be neither read nor chosen as a report (a
report renamed over `desk.db` would replace the database). The platform's native dialog runs in
this process too and sniffs the same way (GTK's content types), so Qt's own dialog is always used.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QFileInfo, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFileDialog, QFileIconProvider, QFileSystemModel, QWidget

PLAIN_CSV = "CSV, plain UTF-8 — LibreOffice, scripts (*.csv)"
EXCEL_CSV = "CSV, UTF-8 with BOM — Excel (*.csv)"
SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


class NameOnlyIcons(QFileIconProvider):
    """A folder or a file icon and type, from stat() alone: nothing listed is ever opened."""

    def icon(self, what: QFileInfo | QFileIconProvider.IconType) -> QIcon:
        if isinstance(what, QFileInfo):
            kind = QFileIconProvider.IconType.Folder if what.isDir() else QFileIconProvider.IconType.File
            return super().icon(kind)
        return super().icon(what)

    def type(self, info: QFileInfo) -> str:
        if info.isDir():
            return "Folder"
        suffix = info.suffix()
        return f"{suffix.upper()} file" if suffix else "File"


class HideFiles(QSortFilterProxyModel):
    """Hides the given files (by absolute path) from the dialog's listing and its completer."""

    def __init__(self, hidden: Iterable[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hidden = frozenset(str(path) for path in hidden)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        if isinstance(model, QFileSystemModel):
            return model.filePath(model.index(source_row, 0, source_parent)) not in self.hidden
        return True


def database_files(database: Path | None) -> list[Path]:
    """The database and the files SQLite keeps beside it, as the dialog must hide them."""
    if database is None:
        return []
    real = database.expanduser().resolve()
    return [
        path.with_name(path.name + side)
        for path in {database.expanduser().absolute(), real}
        for side in SQLITE_SIDE_FILES
    ]


class CsvSaveDialog(QFileDialog):
    """A save dialog for a CSV report that never reads a listed file and never shows the database's."""

    def __init__(self, parent: QWidget, start: Path, database: Path | None) -> None:
        super().__init__(parent, "Export CSV", str(start))
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        self.icons = NameOnlyIcons()  # the dialog does not own it: kept alive here
        self.setIconProvider(self.icons)
        self.setProxyModel(HideFiles(database_files(database), self))
        self.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self.setFileMode(QFileDialog.FileMode.AnyFile)
        self.setDefaultSuffix("csv")
        self.setNameFilters([EXCEL_CSV, PLAIN_CSV])
