"""`access-log`: review the access log (innsynslogg), newest first.

Reading the log is itself recorded (`access_log.read`), in the same transaction.
"""

from __future__ import annotations

import argparse
import json

from helpline import access_log
from helpline.bootstrap import open_services
from helpline.commands.common import CommandError, Subparsers, parse_date
from helpline.db.engine import check_migrated
from helpline.settings import Settings
from rota.wallclock import OSLO, local_midnight, zone


def register(sub: Subparsers) -> None:
    log = sub.add_parser("access-log", help="who read which personal data, when, from where")
    log.add_argument("--since", metavar="DATE", help="from the start of this local date")
    log.add_argument("--limit", type=int, default=100)
    log.add_argument("--json", action="store_true")
    log.set_defaults(handler=access_log_command)


async def access_log_command(settings: Settings, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100_000:
        raise CommandError("--limit must be from 1 to 100000")
    since = local_midnight(parse_date(args.since, "--since"), zone(OSLO)) if args.since else None
    target = (f"since={since.date().isoformat()}&" if since else "") + f"limit={args.limit}"
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        async with services.sessions() as session, session.begin():
            found = await access_log.entries(session, since=since, limit=args.limit)
            await access_log.record(
                session, access_log.cli_reader(), "access_log.read", target, services.clock()
            )
    if args.json:
        listed = [entry.as_json() for entry in found]
        print(json.dumps({"access_log": listed}, ensure_ascii=False, indent=2))
        return 0
    tz = zone(OSLO)
    print(f"{'AT':<17}  {'ACTOR':<28}{'SOURCE':<9}{'ACTION':<16}{'TARGET':<36}CLIENT")
    for entry in found:
        at = entry.at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        print(
            f"{at:<17}  {entry.actor:<28}{entry.source:<9}{entry.action:<16}"
            f"{entry.target:<36}{entry.client or '-'}"
        )
    if not found:
        print("the access log is empty" + (f" since {args.since}" if since else ""))
    return 0
