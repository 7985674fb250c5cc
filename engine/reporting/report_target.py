"""Where a CSV report may be written, decided before a byte is: nothing the user owns is clobbered.

A report replaces a *regular* file atomically (a private partial file beside it, renamed over it
when complete, with the old file's permission bits), so a failed export never leaves half a
report. A FIFO, a terminal or standard output (`-`, `/dev/stdout`) is streamed into instead:
renaming over those would replace the pipe or the device node itself. A symlink is followed, so
the link stays and the file it points at gets the report. Folders, devices and sockets are
refused with one line, as is a name the file system cannot hold.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_STDOUT_NAMES = frozenset({"-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})
_NAME_MAX_BYTES = 255
_PARTIAL_STEM_BYTES = 100  # leaves room for the dot, a random part and ".partial" within 255 bytes


class ReportTargetError(ValueError):
    """The report cannot go there; the message says why in one line (the field is FILE)."""


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """A checked destination: either a regular file to replace atomically, or a stream to write into."""

    shown: str
    replace: Path | None = None  # the regular file (through any symlink) the finished report becomes
    stream: Path | None = None  # a FIFO or terminal written in place
    to_stdout: bool = False
    keep_mode: int | None = None  # permission bits of the file being replaced

    @property
    def streams(self) -> bool:
        return self.replace is None

    def open(self) -> tuple[BinaryIO, Path | None]:
        """The handle to write the report to and, for atomic writes, the partial file behind it.

        Blocks until a reader opens a FIFO, like any program writing to one: call it off the loop.
        """
        if self.to_stdout:
            return os.fdopen(os.dup(1), "wb"), None
        if self.stream is not None:
            return open(self.stream, "wb"), None
        assert self.replace is not None
        stem = os.fsencode(self.replace.name)[:_PARTIAL_STEM_BYTES].decode(errors="ignore")
        descriptor, partial = tempfile.mkstemp(prefix=f".{stem}.", suffix=".partial", dir=self.replace.parent)
        os.fchmod(descriptor, self.keep_mode if self.keep_mode is not None else _default_mode())
        return os.fdopen(descriptor, "wb"), Path(partial)

    def finish(self, partial: Path | None) -> None:
        """Put a complete report in place (atomic rename over the regular file)."""
        if partial is not None and self.replace is not None:
            os.replace(partial, self.replace)

    @staticmethod
    def discard(partial: Path | None) -> None:
        if partial is not None:
            with contextlib.suppress(OSError):
                partial.unlink()


def _default_mode() -> int:
    """What `open(name, "w")` would give a new file: 0666 less the umask (mkstemp makes 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def choose_target(raw: str | os.PathLike[str]) -> ReportTarget:
    """Check where a report may go; raises `ReportTargetError` with the reason."""
    text = os.fspath(raw)
    if not text.strip():
        raise ReportTargetError("is required: a file name such as orders.csv, or - for standard output")
    if text in _STDOUT_NAMES:
        return ReportTarget(text, to_stdout=True)
    path = Path(text).expanduser()
    if any(len(os.fsencode(part)) > _NAME_MAX_BYTES for part in path.parts):
        raise ReportTargetError(f"a name in {text!r} is longer than {_NAME_MAX_BYTES} bytes")
    try:
        info = path.stat()
    except FileNotFoundError:
        return _new_file(path, text)
    except NotADirectoryError:
        raise ReportTargetError(f"{text}: a part of the path before the name is a file, not a folder") from None
    except OSError as error:
        raise ReportTargetError(f"{text}: {error.strerror}") from None
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return ReportTarget(text, replace=Path(os.path.realpath(path)), keep_mode=stat.S_IMODE(mode))
    if stat.S_ISDIR(mode):
        raise ReportTargetError(f"{text} is a folder; give a file name, e.g. {path / 'orders.csv'}")
    if stat.S_ISFIFO(mode):
        return ReportTarget(text, stream=path)
    if stat.S_ISCHR(mode) and _is_terminal(path):
        return ReportTarget(text, stream=path)
    kind = "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket or other special file"
    raise ReportTargetError(
        f"{text} is {kind}, not a file; write to a regular file, a FIFO, a terminal or - (standard output)"
    )


def _new_file(path: Path, text: str) -> ReportTarget:
    final = Path(os.path.realpath(path))  # a dangling symlink gets its target created, the link kept
    folder = final.parent
    if not folder.is_dir():
        raise ReportTargetError(f"folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportTargetError(f"folder {folder} is not writable")
    return ReportTarget(text, replace=final)


def _is_terminal(path: Path) -> bool:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return os.isatty(descriptor)
    finally:
        os.close(descriptor)
