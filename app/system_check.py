"""Before Qt loads: the system libraries the desk needs, and a display to show it on.

Qt aborts the whole process (SIGABRT, exit 134, a core dump) when its xcb platform plugin cannot
load or cannot reach a display, and its message names at most the first missing library. This
check runs before anything imports Qt and turns each of those into one line that says what to
install or what to change. The commands (`submit`, `run`, …) never load Qt and skip it.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SystemLibrary:
    soname: str
    debian: str
    fedora: str
    arch: str


def _libraries(*rows: tuple[str, str, str, str]) -> tuple[SystemLibrary, ...]:
    return tuple(SystemLibrary(*row) for row in rows)


# What QtCore, QtGui, QtWidgets, QtDBus, QtOpenGL and QtSvg link outside the PySide6 wheel: needed
# on every platform, offscreen included (readelf -d of PySide6 6.7–6.11's Qt/lib).
QT_LIBRARIES = _libraries(
    ("libglib-2.0.so.0", "libglib2.0-0", "glib2", "glib2"),
    ("libgthread-2.0.so.0", "libglib2.0-0", "glib2", "glib2"),
    ("libzstd.so.1", "libzstd1", "libzstd", "zstd"),
    ("libz.so.1", "zlib1g", "zlib", "zlib"),
    ("libEGL.so.1", "libegl1", "libglvnd-egl", "libglvnd"),
    ("libGL.so.1", "libgl1", "libglvnd-glx", "libglvnd"),
    ("libfontconfig.so.1", "libfontconfig1", "fontconfig", "fontconfig"),
    ("libfreetype.so.6", "libfreetype6", "freetype", "freetype2"),
    ("libX11.so.6", "libx11-6", "libX11", "libx11"),
    ("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    ("libdbus-1.so.3", "libdbus-1-3", "dbus-libs", "dbus"),
)

# What the xcb platform plugin links besides those (readelf -d of plugins/platforms/libqxcb.so and
# Qt/lib/libQt6XcbQpa.so.6); a stock desktop usually lacks the first few.
XCB_LIBRARIES = _libraries(
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image", "xcb-util-image"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    ("libxcb-util.so.1", "libxcb-util1", "xcb-util", "xcb-util"),
    ("libxcb.so.1", "libxcb1", "libxcb", "libxcb"),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb", "libxcb"),
    ("libxcb-render.so.0", "libxcb-render0", "libxcb", "libxcb"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb", "libxcb"),
    ("libxcb-shm.so.0", "libxcb-shm0", "libxcb", "libxcb"),
    ("libxcb-sync.so.1", "libxcb-sync1", "libxcb", "libxcb"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb", "libxcb"),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb", "libxcb"),
    ("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb", "libx11"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
)

_INSTALLERS = {
    "debian": ("sudo apt-get install", "debian"),
    "fedora": ("sudo dnf install", "fedora"),
    "arch": ("sudo pacman -S --needed", "arch"),
}
_FAMILIES = {"debian": "debian", "ubuntu": "debian", "fedora": "fedora", "rhel": "fedora", "arch": "arch"}


def install_command(libraries: tuple[SystemLibrary, ...] | list[SystemLibrary], family: str) -> str:
    """`sudo apt-get install …` (or dnf, pacman) for these libraries, each package once, in order."""
    command, column = _INSTALLERS[family]
    packages = dict.fromkeys(getattr(library, column) for library in libraries)
    return f"{command} {' '.join(packages)}"


def linux_family(os_release: Path = Path("/etc/os-release")) -> str | None:
    """debian, fedora or arch from os-release's ID and ID_LIKE; None for anything else."""
    try:
        text = os_release.read_text(encoding="utf-8")
    except OSError:
        return None
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    for name in [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]:
        family = _FAMILIES.get(name.strip().strip('"'))
        if family:
            return family
    return None


def _loads(soname: str) -> bool:
    """Whether the dynamic loader finds the library, searching exactly where Qt's loading will."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _display_error(display: str) -> str | None:
    """Why libxcb cannot connect to `display`, or None when it can (the connection is closed again)."""
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        failed = xcb.xcb_connection_has_error(connection)
    finally:
        xcb.xcb_disconnect(connection)
    return f"cannot connect to the X display {display!r} (DISPLAY)" if failed else None


def _uses_xcb(environ: Mapping[str, str]) -> bool:
    platform = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    return platform in ("", "xcb")


def desk_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """One line saying why the desk cannot start on this machine, or None when it can."""
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    xcb = _uses_xcb(environ)
    display = environ.get("DISPLAY", "")
    if xcb and not display and not environ.get("WAYLAND_DISPLAY"):
        return (
            "no display to show the desk on (DISPLAY is not set): start it in a desktop session, "
            "or set QT_QPA_PLATFORM=offscreen for a window nobody sees; the commands (dexdesk --help) need none"
        )
    needed = list(QT_LIBRARIES) + (list(XCB_LIBRARIES) if xcb and display else [])
    missing = [library for library in needed if not _loads(library.soname)]
    if missing:
        family = linux_family()
        names = ", ".join(library.soname for library in missing)
        command = install_command(missing, family or "debian")
        hint = "" if family else " (Debian/Ubuntu names; other systems package the same libraries)"
        return f"the desk needs system libraries this machine lacks ({names}); install them: {command}{hint}"
    if xcb and display:
        return _display_error(display)
    return None
