"""`broadcast send` and `broadcast show`: info messages to an audience.

    helpline broadcast send --to kommune:asker,group:ID --text "..." [--at ISO] [--dry-run]
    helpline broadcast show ID [--json]

The audience is `kommune:ID`, `group:ID`, `home:ID` or `team:ID` (a team's staff),
comma-separated. `--at` without an offset is wall-clock time in the organisation's
timezone. SMS recipients get the text with a "Svar STOPP ..." footer; quiet hours hold
everything until they end; those who said STOPP get nothing.
"""

from __future__ import annotations

import argparse
import json

from helpline import broadcasts
from helpline.bootstrap import open_services
from helpline.commands.common import CommandError, Subparsers, parse_instant, require_org
from helpline.db.engine import check_migrated
from helpline.settings import Settings
from routing.access import ADMIN
from routing.broadcasts import sms_body
from routing.segments import segments

_CREATED_BY = "cli"


def register(sub: Subparsers) -> None:
    command = sub.add_parser("broadcast", help="info messages to an audience, paced")
    actions = command.add_subparsers(dest="broadcast_command", required=True, metavar="ACTION")
    send = actions.add_parser("send", help="send (or with --dry-run, count) a broadcast")
    send.add_argument(
        "--to",
        required=True,
        metavar="AUDIENCE",
        help="kommune:ID, group:ID, home:ID, team:ID, comma-separated",
    )
    send.add_argument("--text", required=True, help="the message, in Norwegian")
    send.add_argument("--at", metavar="ISO8601", help="when; default now; no offset = local time")
    send.add_argument("--dry-run", action="store_true", help="count the recipients, store nothing")
    send.add_argument("--json", action="store_true")
    send.set_defaults(handler=send_command)
    show = actions.add_parser("show", help="a broadcast's recipients by state and channel")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_command)


async def send_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=not args.dry_run) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        at = parse_instant(args.at, loaded.org.helpline.timezone) if args.at else None
        now = services.clock()
        async with services.sessions() as session, session.begin():
            try:
                planned = await broadcasts.plan(session, loaded, args.to, args.text, at, now, ADMIN)
            except broadcasts.BroadcastError as error:
                raise CommandError(str(error)) from None
            counts = planned.counts()
            if args.dry_run:
                return _report(args, None, planned, counts)
            broadcast_id = await broadcasts.store(session, planned, _CREATED_BY, now)
        await broadcasts.start(services, planned)
    return _report(args, broadcast_id, planned, counts)


def _report(
    args: argparse.Namespace,
    broadcast_id: int | None,
    planned: broadcasts.Plan,
    counts: dict[str, int],
) -> int:
    parts = segments(sms_body(planned.text)).count
    if args.json:
        document = {
            "id": broadcast_id,
            "dry_run": broadcast_id is None,
            "audience": planned.audience,
            "send_at": planned.local_send_at(),
            "sms_segments": parts,
            **counts,
        }
        print(json.dumps(document, ensure_ascii=False))
        return 0
    head = "dry run, nothing stored:" if broadcast_id is None else f"broadcast {broadcast_id}:"
    print(
        f"{head} {counts['recipients']} recipients; {counts['opted_out']} opted out, "
        f"{counts['telegram']} on Telegram, {counts['sms']} by SMS ({parts} segment"
        f"{'s' if parts != 1 else ''} each), {counts['held_by_quiet_hours']} held by "
        "quiet hours"
    )
    if broadcast_id is not None:
        print(f"see `helpline broadcast show {broadcast_id}`")
    return 0


async def show_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await services.organisation()
        timezone = loaded.org.helpline.timezone if loaded else "Europe/Oslo"
        async with services.sessions() as session:
            document = await broadcasts.show(session, args.id, timezone)
    if document is None:
        raise CommandError(f"no broadcast {args.id}")
    if args.json:
        print(json.dumps(document, ensure_ascii=False))
        return 0
    print(
        f"broadcast {document['id']} to {document['audience']}: to go out at "
        f"{document['send_at']} (made {document['created_at']})"
    )
    print("  ".join(f"{state} {n}" for state, n in document["states"].items()))
    print("  ".join(f"{channel} {n}" for channel, n in document["channels"].items()))
    return 0
