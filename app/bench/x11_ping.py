"""A tiny X client for `bench window`: find a process's top-level window and time `_NET_WM_PING` round trips.

A window manager sends `_NET_WM_PING` to a window that advertises it in WM_PROTOCOLS and calls the
application "not responding" when no reply comes; Qt answers it from the GUI thread's event loop, so
the round trip is how long the window could not react. This sends the same ClientMessage every few
milliseconds and times each reply. The client sends the reply to the root window with a mask the
window manager selects (SubstructureRedirect) and one any client may select: Qt uses StructureNotify,
the EWMH text suggests SubstructureNotify; we select both on the root.

ctypes on the system's libX11 (which Qt's xcb platform needs anyway) rather than python-xlib, whose
last release is from 2022: no new dependency for a few calls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import select
import threading
import time
from dataclasses import dataclass, field

CLIENT_MESSAGE = 33
STRUCTURE_NOTIFY_MASK = 1 << 17
SUBSTRUCTURE_NOTIFY_MASK = 1 << 19
XA_CARDINAL = 6
XA_WINDOW = 33
ANY_PROPERTY_TYPE = 0


class XClientMessageData(ctypes.Union):
    _fields_ = [("b", ctypes.c_char * 20), ("s", ctypes.c_short * 10), ("l", ctypes.c_long * 5)]


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", XClientMessageData),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]


_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def _ignore_errors(_display: int | None, _error: int | None) -> int:
    """Xlib's default handler exits the process on BadWindow; a window closing while we look at it is normal."""
    return 0


_IGNORE_ERRORS = _ERROR_HANDLER(_ignore_errors)  # kept referenced: libX11 holds the pointer


class NoDisplay(Exception):
    """libX11 is missing or the X server named by DISPLAY does not answer."""


@functools.cache
def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        x = ctypes.CDLL(name)
    except OSError as missing:
        raise NoDisplay(f"libX11 is not installed ({missing})") from None
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XDefaultRootWindow.restype = ctypes.c_ulong
    x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XGetWindowProperty.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_ulong,
        ctypes.c_long,
        ctypes.c_long,
        ctypes.c_int,
        ctypes.c_ulong,
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_void_p),
    ]
    x.XFree.argtypes = [ctypes.c_void_p]
    x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.POINTER(XEvent)]
    x.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
    x.XFlush.argtypes = [ctypes.c_void_p]
    x.XPending.argtypes = [ctypes.c_void_p]
    x.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(XEvent)]
    x.XConnectionNumber.argtypes = [ctypes.c_void_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x.XInitThreads()
    x.XSetErrorHandler(_IGNORE_ERRORS)
    return x


class Display:
    """One connection to the X server (each thread that talks to X opens its own)."""

    def __init__(self) -> None:
        self.x = _lib()
        handle = self.x.XOpenDisplay(None)
        if not handle:
            raise NoDisplay("no X server answers on DISPLAY")
        self.handle: int = handle
        self.root: int = self.x.XDefaultRootWindow(handle)

    def close(self) -> None:
        self.x.XCloseDisplay(self.handle)

    def atom(self, name: str) -> int:
        return int(self.x.XInternAtom(self.handle, name.encode(), 0))

    def longs(self, window: int, prop: str) -> list[int]:
        """A window's 32-bit property (CARDINAL, WINDOW, ATOM lists) as ints; [] when absent."""
        actual, fmt = ctypes.c_ulong(), ctypes.c_int()
        count, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        status = self.x.XGetWindowProperty(
            self.handle,
            window,
            self.atom(prop),
            0,
            4096,
            0,
            ANY_PROPERTY_TYPE,
            ctypes.byref(actual),
            ctypes.byref(fmt),
            ctypes.byref(count),
            ctypes.byref(after),
            ctypes.byref(data),
        )
        if status != 0 or not data.value:
            return []
        try:
            if fmt.value != 32:
                return []
            values = ctypes.cast(data, ctypes.POINTER(ctypes.c_ulong))  # format 32 is a C long per item
            return [int(values[i]) for i in range(count.value)]
        finally:
            self.x.XFree(data)

    def text(self, window: int, prop: str = "_NET_WM_NAME") -> str:
        """A window's 8-bit text property (UTF-8), e.g. its title; "" when absent."""
        actual, fmt = ctypes.c_ulong(), ctypes.c_int()
        count, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        status = self.x.XGetWindowProperty(
            self.handle,
            window,
            self.atom(prop),
            0,
            4096,
            0,
            ANY_PROPERTY_TYPE,
            ctypes.byref(actual),
            ctypes.byref(fmt),
            ctypes.byref(count),
            ctypes.byref(after),
            ctypes.byref(data),
        )
        if status != 0 or not data.value:
            return ""
        try:
            return ctypes.string_at(data, count.value).decode(errors="replace") if fmt.value == 8 else ""
        finally:
            self.x.XFree(data)

    def windows_of(self, pid: int) -> list[int]:
        """The managed top-level windows (`_NET_CLIENT_LIST`, kept by the window manager) of process `pid`."""
        return [w for w in self.longs(self.root, "_NET_CLIENT_LIST") if self.longs(w, "_NET_WM_PID") == [pid]]

    def answers_ping(self, window: int) -> bool:
        return self.atom("_NET_WM_PING") in self.longs(window, "WM_PROTOCOLS")

    def has_window_manager(self) -> bool:
        return bool(self.longs(self.root, "_NET_SUPPORTING_WM_CHECK"))


@dataclass
class PingLog:
    """Round trips in seconds, in the order the pings were sent; `unanswered` counts pings never answered.

    With a schedstat file (the GUI thread's /proc/PID/task/TID/schedstat), each round trip is split:
    how much of it that thread ran on a CPU, and how long it waited on a run queue for one. A stall
    the desk makes itself is on-CPU time; a loaded machine shows up as run-queue wait.
    """

    round_trips: list[tuple[float, float]] = field(default_factory=list)  # (sent at, round trip)
    unanswered: list[float] = field(default_factory=list)  # sent at, for pings with no reply at the end
    on_cpu: dict[float, tuple[float, float]] = field(default_factory=dict)  # sent at → (ran, waited to run)


class Pinger(threading.Thread):
    """Sends `_NET_WM_PING` to `window` every `every_s` on its own X connection, until `stop()`.

    One ping every period whether or not the last one was answered (a WM pings on its own clock):
    a stall of 200 ms leaves a run of late replies, the first of them ~200 ms.
    """

    def __init__(self, window: int, every_s: float = 0.010, schedstat: str | None = None) -> None:
        super().__init__(name="x11-pinger", daemon=True)
        self.window = window
        self.every_s = every_s
        self.schedstat = schedstat
        self.log = PingLog()
        self._halt = threading.Event()
        self._display = Display()

    def stop(self) -> PingLog:
        self._halt.set()
        self.join(10)
        return self.log

    def _thread_times(self) -> tuple[int, int]:
        """The GUI thread's nanoseconds on a CPU and waiting on a run queue so far (0, 0 if it is gone)."""
        try:
            with open(self.schedstat) as stats:  # type: ignore[arg-type]  # only called when set
                ran, waited, _slices = stats.read().split()
        except (OSError, ValueError):
            return 0, 0
        return int(ran), int(waited)

    def run(self) -> None:
        d = self._display
        x, handle = d.x, d.handle
        protocols, ping = d.atom("WM_PROTOCOLS"), d.atom("_NET_WM_PING")
        x.XSelectInput(handle, d.root, STRUCTURE_NOTIFY_MASK | SUBSTRUCTURE_NOTIFY_MASK)
        fd = x.XConnectionNumber(handle)
        sent: dict[int, float] = {}
        times_at_send: dict[int, tuple[int, int]] = {}
        serial = 0
        next_at = time.perf_counter()
        event = XEvent()
        drain_until = float("inf")
        try:
            while sent or not self._halt.is_set():
                now = time.perf_counter()
                if self._halt.is_set():  # no more pings; wait up to a second for the last replies
                    drain_until = min(drain_until, now + 1.0)
                    if now >= drain_until:
                        break
                    next_at = now + self.every_s
                elif now >= next_at:
                    serial += 1
                    message = XEvent()
                    message.xclient.type = CLIENT_MESSAGE
                    message.xclient.window = self.window
                    message.xclient.message_type = protocols
                    message.xclient.format = 32
                    message.xclient.data.l[0] = ping
                    message.xclient.data.l[1] = serial  # the timestamp field: echoed back, it names the ping
                    message.xclient.data.l[2] = self.window
                    sent[serial] = now
                    if self.schedstat:
                        times_at_send[serial] = self._thread_times()
                    x.XSendEvent(handle, self.window, 0, 0, ctypes.byref(message))
                    x.XFlush(handle)
                    next_at = max(next_at + self.every_s, now)
                while x.XPending(handle):
                    x.XNextEvent(handle, ctypes.byref(event))
                    got = event.xclient
                    if event.type == CLIENT_MESSAGE and got.message_type == protocols and got.data.l[0] == ping:
                        at = sent.pop(int(got.data.l[1]), None)
                        if at is not None:
                            self.log.round_trips.append((at, time.perf_counter() - at))
                            before = times_at_send.pop(int(got.data.l[1]), None)
                            if before is not None:
                                ran, waited = self._thread_times()
                                self.log.on_cpu[at] = ((ran - before[0]) / 1e9, (waited - before[1]) / 1e9)
                select.select([fd], [], [], max(0.0, next_at - time.perf_counter()))
        finally:
            self.log.unanswered = sorted(sent.values())
            self.log.round_trips.sort()
            d.close()
