"""What the commands tell the user about the Redis mirror, on stderr (stdout stays the command's output)."""

from __future__ import annotations

import argparse
import os

from app.console import err
from engine.config.paths import settings_path
from engine.config.settings import Settings
from engine.listeners.mirror_keys import display_url
from engine.listeners.mirror_state import MirrorState


class MirrorReporter:
    """Tells the user on stderr when the Redis mirror connects or loses Redis (stdout stays clean)."""

    def __init__(self) -> None:
        self.last: tuple[str, str | None] | None = None

    def __call__(self, state: MirrorState) -> None:
        key = (state.status, state.reason)
        if state.status in ("connected", "disconnected") and key != self.last:
            self.last = key
            reason = f" ({state.reason}); the engine carries on and reconnects by itself" if state.reason else ""
            err.print(f"dexdesk: Redis mirror {state.status} ({state.url}){reason}", markup=False)


def say_where_updates_go(args: argparse.Namespace, settings: Settings) -> None:
    """A Redis URL the user did not give this command (the desk's saved Settings) is named first, on stderr.

    `run` publishes every update to the mirror; without this line a run could fill someone's Redis
    because of a setting saved long ago in the desk.
    """
    if not settings.redis_url or getattr(args, "redis_url", None) or os.environ.get("DEXDESK_REDIS_URL"):
        return
    err.print(
        f"dexdesk: publishing every update to Redis at {display_url(settings.redis_url)}, from the saved "
        f"settings ({settings_path()}); --redis '' or the desk's Settings → Redis mirror to stop",
        markup=False,
    )
