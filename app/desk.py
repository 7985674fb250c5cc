"""`dexdesk` with no command: the Qt application, the desk's asyncio loop and the engine, wired together.

Only wiring lives here; every widget and the desk's run loop are in `ui/`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.assembly import build_engine
from app.system_check import desk_problem
from app.wiring import start_mirror
from engine.cluster.config import ClusterUnavailable
from engine.config.paths import config_dir
from engine.config.settings import Settings
from engine.model.exit_codes import ExitCode


def layout_file() -> Path:
    """Window geometry, dock layout, column widths and filters, beside settings.json."""
    return config_dir() / "desk.ini"


def launch(args: argparse.Namespace, settings: Settings) -> int:
    problem = desk_problem()  # before Qt is imported: a missing library makes Qt abort the process
    if problem:
        print(f"dexdesk: {problem}", file=sys.stderr)
        return ExitCode.FAILED
    import asyncio

    from PySide6.QtWidgets import QApplication

    from ui.event_loop import DeskEventLoop
    from ui.qt_compat import BrokenQtBindings, check_qt_bindings
    from ui.session import run_desk
    from ui.theme import apply_theme

    try:
        check_qt_bindings()
    except BrokenQtBindings as problem:
        print(f"dexdesk: {problem}", file=sys.stderr)
        return ExitCode.FAILED
    demo: int | None = args.demo
    screenshot = Path(args.screenshot) if args.screenshot else None
    if demo:
        # The demo shows the whole life of many orders at once: no simulated waits, no rate limit.
        settings = settings.model_copy(update={"time_scale": 0.0, "rate_limit": 0})
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("dexdesk")
    app.setOrganizationName("dexdesk")
    apply_theme(app, settings.theme)
    try:
        engine = build_engine(settings)
    except ClusterUnavailable as refused:
        print(f"dexdesk: {refused}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    loop = DeskEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        exit_code: int = loop.run_until_complete(
            run_desk(
                engine,
                settings,
                layout_file=layout_file(),
                demo=demo,
                screenshot=screenshot,
                start_mirror=start_mirror,
            )
        )
    return exit_code


def screenshot_problem(raw: str) -> str | None:
    """Why a screenshot cannot be saved at `raw` (None if it can): checked before the demo runs."""
    from PySide6.QtGui import QImageWriter

    formats = sorted(bytes(name.data()).decode() for name in QImageWriter.supportedImageFormats())
    path = Path(raw)
    if not raw.strip():
        return "give a file name, e.g. desk.png"
    if path.is_dir():
        return f"{raw} is a folder; give a file name, e.g. {path / 'desk.png'}"
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        return f"cannot save .{suffix or '(no extension)'} images; use one of: {', '.join('.' + f for f in formats)}"
    if not path.parent.is_dir():
        return f"folder {path.parent} does not exist"
    return None
