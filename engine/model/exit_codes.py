"""The process exit statuses every dexdesk command and the desk share, defined once.

They live below the desk and the command line (both return them), so neither layer has to
import the other to agree on what 2 means.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    """The command did its job (`submit`: the order was CONFIRMED)."""
    FAILED = 1
    """The job ran but did not succeed.

    `submit`, `watch ID`: the order FAILED; `run`: the run itself could not finish; the desk: it
    cannot start on this machine.
    """
    BAD_INPUT = 2
    """Refused before anything was stored: bad input, bad settings, an unusable database."""
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT); unfinished orders stay stored and resume later."""
