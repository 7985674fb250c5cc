"""Who holds SQLite's lock on a database, asked from another process (as the process that would
wrongly checkpoint and delete the WAL would see it).

`fcntl(F_GETLK)` for a write lock over the database file's SHARED range (and the -shm file's
DMS byte) answers with a conflicting lock's owner. It must run in another process: a process is
never told about its own POSIX locks, and opening and closing the file here would drop them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# SQLite's unix VFS: the SHARED range starts at PENDING_BYTE + 2 and is 510 bytes; the DMS byte of -shm is 128.
_SHARED_FIRST, _SHARED_SIZE, _DMS_BYTE = 0x40000000 + 2, 510, 128

_PROBE = """
import fcntl, os, struct, sys
def holder(path, start, length):
    fd = os.open(path, os.O_RDWR)
    try:
        query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
        kind, _whence, _start, _length, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))
        return pid if kind != fcntl.F_UNLCK else 0
    finally:
        os.close(fd)
path = sys.argv[1]
print(holder(path, int(sys.argv[2]), int(sys.argv[3])), holder(path + "-shm", int(sys.argv[4]), 1))
"""


def lock_holders(database: Path) -> tuple[int, int]:
    """The pids holding the database file's shared lock and the -shm file's DMS lock (0 = nobody)."""
    args = [str(database), str(_SHARED_FIRST), str(_SHARED_SIZE), str(_DMS_BYTE)]
    answer = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=True)
    first, second = answer.stdout.split()
    return int(first), int(second)
