"""Noticing that this process lost its SQLite lock, before it writes into a WAL someone may delete.

POSIX record locks belong to a process and a file, not to a descriptor: a `close()` of ANY
descriptor of the database file in this process drops every lock the process holds on it,
SQLite's own included (sqlite.org/howtocorrupt.html §2.2). Qt's file dialog did exactly that by
MIME-sniffing `desk.db`, `-wal` and `-shm` while listing their folder (issue 24: /proc/locks went
from 2 entries to 0). Without the lock, the next other process to close the database believes it
is the last one, checkpoints and deletes the WAL this process still writes to, and what is
written after that is lost (147 cancelled orders came back PENDING after a restart).

In WAL mode a process with any open connection holds a read lock on the database file's SHARED
range and one on the `-shm` file's DMS byte for as long as the connection is open. So while a
transaction is open on one of the store's connections, this process must be listed in
/proc/locks for both files; the store looks just before each commit (reading /proc/locks costs
~45 µs, a stat of each file ~2 µs; neither opens the database's files). A new connection in the
same process does not take the lock again (SQLite remembers per file that the process holds it,
measured), so the repair is to close every connection of the process to the file and open afresh.

Only Linux lists locks in /proc/locks; elsewhere `held()` answers None and nothing is checked.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.storage.report_reader import sqlite_file

PROC_LOCKS = Path("/proc/locks")


class LockLost(Exception):
    """This process no longer holds its lock on the SQLite database: stop, reopen, then write."""


class LockWatch:
    """Whether this process still holds SQLite's locks on the database it writes."""

    def __init__(self, url: str) -> None:
        self.path: Path | None = sqlite_file(url)
        self.lost = False  # set by a failed check, cleared once every connection has been reopened
        self.losses = 0  # how many times it was found lost, for the status line and tests

    @property
    def message(self) -> str:
        return (
            f"this process lost its lock on {self.path} (a descriptor of the file was closed outside SQLite); "
            "writes stopped and the database was reopened"
        )

    def held(self) -> bool | None:
        """True while this process holds a lock on the database file and on its -shm file; None when it
        cannot be told (not a SQLite file in WAL mode, no /proc/locks)."""
        if self.path is None:
            return None
        database, shared_memory = _inode(self.path), _inode(self.path.with_name(self.path.name + "-shm"))
        if database is None or shared_memory is None:
            return None  # not in WAL mode: a rollback journal holds its lock only during a statement
        try:
            listing = PROC_LOCKS.read_text()
        except OSError:
            return None
        return {database, shared_memory} <= _locked_inodes(listing, os.getpid())

    def check(self) -> None:
        """Raise LockLost if the lock is gone; call it while one of the store's connections is open."""
        if self.held() is False:
            self.lost = True
            self.losses += 1
            raise LockLost(self.message)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _locked_inodes(listing: str, pid: int) -> set[int]:
    """The inodes `pid` holds a POSIX lock on, from /proc/locks ("1: POSIX ADVISORY READ 42 fe:00:123 0 EOF").

    Waiting requests ("1: -> POSIX …") are not locks held. The device is left out: on overlay file
    systems it differs from what stat() says, and the pid and inode together are already specific.
    """
    held: set[int] = set()
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->" or fields[1] != "POSIX":
            continue
        if fields[4] != str(pid):
            continue
        held.add(int(fields[5].rsplit(":", 1)[-1]))
    return held
