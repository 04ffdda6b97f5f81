"""`oncall` and `coverage`: asking the rota."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta

from helpline.bootstrap import LoadedOrg, open_services
from helpline.commands.common import (
    CommandError,
    Subparsers,
    parse_date,
    parse_instant,
    require_org,
)
from helpline.db.engine import check_migrated
from helpline.settings import Settings
from rota.engine import UnknownKommune
from rota.model import ChainEntry, Gap
from rota.wallclock import local_midnight, zone

DEFAULT_COVERAGE_DAYS = 28


def register(sub: Subparsers) -> None:
    oncall = sub.add_parser("oncall", help="who is on duty for a kommune")
    oncall.add_argument("--kommune", required=True, metavar="ID")
    oncall.add_argument("--at", metavar="ISO8601", help="default: now; no offset = local time")
    oncall.add_argument("--json", action="store_true")
    oncall.set_defaults(handler=oncall_command)
    coverage = sub.add_parser("coverage", help="coverage gaps; exit status 1 when there are")
    coverage.add_argument("--from", dest="start", metavar="DATE", help="default: today")
    coverage.add_argument("--to", dest="end", metavar="DATE", help="inclusive; default: +28 d")
    coverage.add_argument("--kommune", metavar="ID")
    coverage.add_argument("--json", action="store_true")
    coverage.set_defaults(handler=coverage_command)


async def oncall_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        tz = loaded.org.helpline.timezone
        at = parse_instant(args.at, tz) if args.at else services.clock()
        try:
            chain = loaded.rota.on_duty(args.kommune, at)
        except UnknownKommune:
            raise CommandError(_unknown_kommune(loaded, args.kommune)) from None
    local = at.astimezone(zone(tz))
    if args.json:
        print(json.dumps(oncall_json(args.kommune, local, chain), ensure_ascii=False, indent=2))
    else:
        print(_oncall_table(loaded, args.kommune, local, chain))
    return 0


def oncall_json(kommune: str, at: datetime, chain: tuple[ChainEntry, ...]) -> dict[str, object]:
    """The JSON shape of DESIGN.md: kommune, at and the chain."""
    return {
        "kommune": kommune,
        "at": at.isoformat(),
        "chain": [
            {"role": e.role, "team": e.team, "person": e.person, "name": e.name, "phone": e.phone}
            for e in chain
        ],
    }


async def coverage_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        tz = zone(loaded.org.helpline.timezone)
        first = (
            parse_date(args.start, "--from")
            if args.start
            else services.clock().astimezone(tz).date()
        )
        last = (
            parse_date(args.end, "--to")
            if args.end
            else first + timedelta(days=DEFAULT_COVERAGE_DAYS - 1)
        )
        if last < first:
            raise CommandError("--to is before --from")
        if args.kommune and args.kommune not in {k.id for k in loaded.org.kommuner}:
            raise CommandError(_unknown_kommune(loaded, args.kommune))
        start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
        gaps = loaded.rota.gaps(start, end, args.kommune)
    if args.json:
        print(json.dumps(coverage_json(gaps, tz.key), ensure_ascii=False, indent=2))
    else:
        print(_coverage_table(gaps, first.isoformat(), last.isoformat(), tz.key))
    return 1 if gaps else 0


def coverage_json(gaps: list[Gap], timezone: str) -> dict[str, object]:
    """The JSON shape of DESIGN.md: the gaps with local ISO 8601 times."""
    tz = zone(timezone)
    return {
        "gaps": [
            {
                "kommune": g.kommune,
                "from": g.start.astimezone(tz).isoformat(),
                "to": g.end.astimezone(tz).isoformat(),
            }
            for g in gaps
        ]
    }


def _unknown_kommune(loaded: LoadedOrg, kommune: str) -> str:
    known = ", ".join(k.id for k in loaded.org.kommuner)
    return f"unknown kommune {kommune!r}; known: {known}"


def _oncall_table(
    loaded: LoadedOrg, kommune: str, at: datetime, chain: tuple[ChainEntry, ...]
) -> str:
    name = next((k.name for k in loaded.org.kommuner if k.id == kommune), kommune)
    lines = [f"{name} at {at:%Y-%m-%d %H:%M %Z}", f"{'ROLE':<14}{'NAME':<32}{'TEAM':<20}PHONE"]
    lines += [f"{e.role:<14}{e.name:<32}{e.team or '-':<20}{e.phone}" for e in chain]
    return "\n".join(lines)


def _coverage_table(gaps: list[Gap], first: str, last: str, timezone: str) -> str:
    if not gaps:
        return f"no coverage gaps from {first} to {last}"
    tz = zone(timezone)
    lines = [
        f"{len(gaps)} coverage gap(s) from {first} to {last}:",
        f"{'KOMMUNE':<20}{'FROM':<20}TO",
    ]
    lines += [
        f"{g.kommune:<20}{g.start.astimezone(tz):%Y-%m-%d %H:%M}    "
        f"{g.end.astimezone(tz):%Y-%m-%d %H:%M}"
        for g in gaps
    ]
    return "\n".join(lines)
