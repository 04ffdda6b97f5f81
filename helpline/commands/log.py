"""`contacts` and `outbox`: the contact log and the messages sent.

Both show personal data, so each run is recorded in the access log as `cli:<os user>`
in the transaction that reads: when the entry cannot be written, nothing is shown.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpline import access_log
from helpline.bootstrap import open_services
from helpline.commands.common import CommandError, Subparsers, parse_date
from helpline.contacts import ContactFilter, list_contacts
from helpline.db.engine import check_migrated
from helpline.db.models import OutboxRow
from helpline.settings import Settings
from rota.wallclock import OSLO, local_midnight, zone
from routing.access import ADMIN


def register(sub: Subparsers) -> None:
    contacts = sub.add_parser("contacts", help="the contact log, newest first")
    contacts.add_argument("--kommune", metavar="ID")
    contacts.add_argument("--since", metavar="DATE", help="from the start of this local date")
    contacts.add_argument("--limit", type=int, default=50)
    contacts.add_argument("--json", action="store_true")
    contacts.set_defaults(handler=contacts_command)
    outbox = sub.add_parser("outbox", help="outgoing SMS (the sandbox delivers here)")
    outbox.add_argument("--limit", type=int, default=20)
    outbox.add_argument("--json", action="store_true")
    outbox.set_defaults(handler=outbox_command)


async def contacts_command(settings: Settings, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 1000:
        raise CommandError("--limit must be from 1 to 1000")
    since = local_midnight(parse_date(args.since, "--since"), zone(OSLO)) if args.since else None
    where = ContactFilter(kommune=args.kommune, since=since, limit=args.limit)
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        async with services.sessions() as session, session.begin():
            found = await list_contacts(session, where, ADMIN)  # the operator's own machine
            await access_log.record(
                session,
                access_log.cli_reader(),
                "contacts.list",
                where.describe(),
                services.clock(),
            )
    if args.json:
        print(json.dumps({"contacts": found}, ensure_ascii=False, indent=2))
        return 0
    tz = zone(OSLO)
    print(
        f"{'ID':>5}  {'STARTED':<17}{'CHANNEL':<9}{'KOMMUNE':<12}{'FROM':<24}"
        f"{'OUTCOME':<12}{'ANSWERED BY':<22}SECONDS"
    )
    for c in found:
        home = c["foster_home"]
        who = home["name"] if isinstance(home, dict) else f"ukjent {c['caller']}"
        started = _local(str(c["started_at"]), tz)
        print(
            f"{c['id']:>5}  {started:<17}{c['channel']!s:<9}{c['kommune'] or '-':<12}"
            f"{who:<24}{c['outcome']!s:<12}{c['answered_by'] or '-':<22}"
            f"{c['duration_seconds'] or '-'}"
        )
    return 0


async def outbox_command(settings: Settings, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 10_000:
        raise CommandError("--limit must be from 1 to 10000")
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        async with services.sessions() as session, session.begin():
            latest = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(args.limit)
            rows = list(await session.scalars(latest))
            await access_log.record(
                session,
                access_log.cli_reader(),
                "outbox.list",
                f"limit={args.limit}",
                services.clock(),
            )
    items = [
        {
            "id": r.id,
            "channel": r.channel,
            "to": r.to,
            "from": r.sender,
            "body": r.body,
            "contact": r.contact_id,
            "status": r.status,
            "kind": r.kind,
            "class": r.msg_class,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
    if args.json:
        print(json.dumps({"outbox": items}, ensure_ascii=False, indent=2))
        return 0
    for item in items:
        print(
            f"#{item['id']} {item['created_at']} {item['channel']} to {item['to']} "
            f"from {item['from']} [{item['status']}]\n    {item['body']}"
        )
    if not items:
        print("the outbox is empty")
    return 0


def _local(iso: str, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")
