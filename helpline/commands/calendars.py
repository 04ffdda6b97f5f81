"""`calendars` and `calendars rotate`: the duty calendar feeds.

A feed URL carries its only credential, so the database keeps the token's hash alone and
a URL is printed once, when `rotate` issues it; rotating again turns the old URL off.
"""

from __future__ import annotations

import argparse
import json

from helpline.bootstrap import open_services
from helpline.commands.common import CommandError, Subparsers, require_org
from helpline.db.engine import check_migrated
from helpline.db.register import calendar_feeds, rotate_feed
from helpline.settings import Settings
from helpline.web.feeds import feed_path


def register(sub: Subparsers) -> None:
    calendars = sub.add_parser("calendars", help="the duty calendar feeds")
    calendars.add_argument("--json", action="store_true")
    calendars.set_defaults(handler=calendars_command)
    actions = calendars.add_subparsers(dest="calendars_command", metavar="ACTION")
    rotate = actions.add_parser("rotate", help="issue a new feed URL (the old one stops)")
    target = rotate.add_mutually_exclusive_group(required=True)
    target.add_argument("--person", metavar="ID")
    target.add_argument("--team", metavar="ID")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=rotate_command)


async def calendars_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        async with services.sessions() as session:
            rows = await calendar_feeds(session)
    names = {("team", t.id): t.name for t in loaded.org.teams}
    names |= {("person", p.id): p.name for p in loaded.org.people}
    feeds = [
        {
            "kind": kind,
            "id": target,
            "name": names.get((kind, target), target),
            "issued_at": row.rotated_at.isoformat() if row.rotated_at else None,
        }
        for (kind, target), row in sorted(rows.items())
    ]
    if args.json:
        print(json.dumps({"calendars": feeds}, ensure_ascii=False, indent=2))
        return 0
    for feed in feeds:
        issued = f"issued {feed['issued_at'][:16]}" if feed["issued_at"] else "no URL issued"
        print(f"{feed['kind']:<7} {feed['id']:<20} {feed['name']:<36} {issued}")
    print("a URL is shown once: `helpline calendars rotate --person ID | --team ID` issues one")
    return 0


async def rotate_command(settings: Settings, args: argparse.Namespace) -> int:
    kind, target = ("person", args.person) if args.person else ("team", args.team)
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        async with services.sessions() as session, session.begin():
            token = await rotate_feed(session, kind, target, services.clock())
    if token is None:
        raise CommandError(f"no calendar feed for {kind} {target!r}")
    url = settings.public_url + feed_path(token)
    if args.json:
        print(json.dumps({"kind": kind, "id": target, "url": url}))
    else:
        print(url)
    return 0
