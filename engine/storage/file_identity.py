"""Noticing a SQLite file deleted or replaced under a running dexdesk.

SQLite keeps writing to the inode it opened: if the file is deleted (or another file renamed
over it), a run goes on "succeeding" into a file nobody can open again, and every order is lost
at exit. The store records the file's (st_dev, st_ino) when it opens and compares before each
transaction; a stat costs microseconds, a transaction milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.storage.changes import StorageUnavailable
from engine.storage.report_reader import sqlite_file

Identity = tuple[int, int]


class FileWatch:
    """The identity of the database file a store opened; `check()` raises once it changes."""

    def __init__(self, url: str) -> None:
        self.path: Path | None = sqlite_file(url)
        self.identity: Identity | None = None

    def exists(self) -> bool:
        return self.path is None or self.path.exists()

    def stale_log(self) -> str | None:
        """Why not to open a missing file whose write-ahead log is still there, or None.

        Its last commits may live only in that `-wal` (a database deleted or moved while in use):
        SQLite would either fail ("disk I/O error") or start an empty file and drop the log.
        """
        if self.path is None or self.path.exists():
            return None
        wal = self.path.with_name(self.path.name + "-wal")
        if not wal.exists():
            return None
        shm = self.path.with_name(self.path.name + "-shm")
        return (
            f"database {self.path} is missing but its write-ahead log {wal} is still there (a stale -wal left by "
            f"a database deleted or moved while in use): if the database was moved, move {wal.name} (and "
            f"{shm.name}) beside it; to start a new database here, delete {wal.name} and {shm.name}"
        )

    def remember(self) -> None:
        if self.path is not None:
            self.identity = _identity(self.path)

    def check(self) -> None:
        if self.path is None or self.identity is None:
            return
        now = _identity(self.path)
        if now == self.identity:
            return
        what = "deleted" if now is None else "replaced by another file"
        raise StorageUnavailable(
            f"database file {self.path} was {what} while dexdesk was using it; stopping so that no order "
            "is written where nobody can read it (unfinished orders resume from the file that is there now)"
        )


def _identity(path: Path) -> Identity | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino
