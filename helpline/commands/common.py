"""What the command handlers share: errors, the loaded organisation, time arguments."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeAlias

from helpline.bootstrap import LoadedOrg, Services
from helpline.settings import Settings
from rota.wallclock import local_instant, zone

Handler = Callable[[Settings, argparse.Namespace], Awaitable[int]]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandError(Exception):
    """A command cannot do what was asked; the message says why (English)."""


async def require_org(services: Services) -> LoadedOrg:
    """The loaded organisation, or a clear error when none is loaded."""
    loaded = await services.organisation()
    if loaded is None:
        raise CommandError("no organisation is loaded: run `helpline load FILE` or `helpline demo`")
    return loaded


def parse_instant(text: str, timezone: str) -> datetime:
    """An ISO 8601 instant; without an offset it is wall-clock time in `timezone`."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at: not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is not None:
        return value
    return local_instant(value.date(), value.time(), zone(timezone))


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: not a date (YYYY-MM-DD): {text!r}") from None
