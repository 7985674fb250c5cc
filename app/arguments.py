"""How the `dexdesk` commands read their arguments, and how bad input and unusable databases reach the user.

Shared by the commands that take order fields or filters (app/commands.py, app/run_commands.py;
app/account_cmd.py reports through the same decorator), so a bad pair, status or slippage reads the
same, with the same exit status (2), whichever command was given it.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from functools import wraps

from app.console import err
from engine.cluster.config import ClusterUnavailable
from engine.config.settings import Settings
from engine.model.exit_codes import ExitCode
from engine.model.validation import FieldError, InvalidOrder, validate_pair
from engine.storage import StorageFailure, StorageUnavailable
from engine.trading.pairs import default_catalog

Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def reports_problems(handler: Handler) -> Handler:
    """Turn bad input and unusable databases into one clear line and exit status 2."""

    @wraps(handler)
    async def wrapper(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return await handler(args, settings)
        except InvalidOrder as error:
            # One line, every bad field named with its rule ("amount: …; direction: …"); nothing was stored.
            err.print(f"dexdesk: {error}", markup=False)
            return ExitCode.BAD_INPUT
        except (StorageUnavailable, ClusterUnavailable) as error:
            err.print(f"dexdesk: {error}", markup=False)
            return ExitCode.BAD_INPUT
        except StorageFailure as error:
            err.print(f"dexdesk: {error}", markup=False)
            return ExitCode.FAILED

    return wrapper


def pair_argument(raw: str) -> str:
    result = validate_pair(raw, default_catalog())
    if isinstance(result, FieldError):
        raise InvalidOrder([result])
    return result


def pair_filter(raw: str | None) -> str | None:
    return None if raw is None else pair_argument(raw)


def slippage_fraction(percent: str | None) -> object:
    """`--slippage 0.5` means 0.5 %; validation takes a fraction and names the field."""
    if percent is None:
        return None
    try:
        if percent != percent.strip():
            raise InvalidOperation
        return Decimal(percent) / 100
    except InvalidOperation:
        raise InvalidOrder([FieldError("slippage", "must be a percentage, e.g. 0.5 for 0.5 %")]) from None
