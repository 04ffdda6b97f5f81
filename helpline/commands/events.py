"""`event create|invite|show|list|change|cancel|attendance|stats`: fagdager, nettverkstreff
and fosterhjemskaféer, their invitations and answers.

    helpline event create --kind nettverkstreff --title "Nettverkstreff i Asker" \\
        --starts 2026-12-10T18:00 --ends 2026-12-10T20:00 --place "Asker kulturhus" \\
        --capacity 30 --rsvp-by 2026-12-06 --audience kommune:asker
    helpline event invite 1
    helpline event show 1 --json

Times without an offset are the organisation's wall-clock time (Europe/Oslo); a bare
date as `--rsvp-by` means the end of that day.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, time, timedelta
from typing import Any

from helpline import access_log
from helpline.bootstrap import open_services
from helpline.commands.common import CommandError, Subparsers, parse_date, require_org
from helpline.db.engine import check_migrated
from helpline.event_actions import (
    cancel_event,
    change_event,
    create_event,
    invite_event,
    mark_attendance,
)
from helpline.events import Change, EventProblem, kommune_statistics, list_events, show
from helpline.settings import Settings
from rota.wallclock import local_instant, zone
from routing.access import ADMIN
from routing.event_rules import EVENT_KINDS, Draft

_BY = "cli"


def register(sub: Subparsers) -> None:
    command = sub.add_parser("event", help="events, invitations and answers")
    actions = command.add_subparsers(dest="event_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make an event (invite with `event invite`)")
    create.add_argument("--kind", required=True, choices=EVENT_KINDS)
    create.add_argument("--title", required=True)
    create.add_argument("--starts", required=True, metavar="ISO8601")
    create.add_argument("--ends", required=True, metavar="ISO8601")
    create.add_argument("--place", required=True)
    create.add_argument("--capacity", type=int, metavar="N", help="places, in people")
    create.add_argument("--rsvp-by", metavar="ISO8601", help="answer deadline (date: its end)")
    create.add_argument(
        "--audience", metavar="AUDIENCE", help="kommune:ID,group:ID,home:ID,team:ID"
    )
    create.add_argument("--note")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=create_command)
    invite = actions.add_parser("invite", help="invite the homes not invited yet")
    invite.add_argument("id", type=int, metavar="ID")
    invite.add_argument("--audience", metavar="AUDIENCE", help="add these to the audience first")
    invite.add_argument("--json", action="store_true")
    invite.set_defaults(handler=invite_command)
    shown = actions.add_parser("show", help="an event's answers and figures")
    shown.add_argument("id", type=int, metavar="ID")
    shown.add_argument("--json", action="store_true")
    shown.set_defaults(handler=show_command)
    listed = actions.add_parser("list", help="every event, soonest first")
    listed.add_argument("--json", action="store_true")
    listed.set_defaults(handler=list_command)
    change = actions.add_parser("change", help="new time, place or capacity")
    change.add_argument("id", type=int, metavar="ID")
    change.add_argument("--starts", metavar="ISO8601")
    change.add_argument("--ends", metavar="ISO8601")
    change.add_argument("--place")
    change.add_argument("--capacity", type=int, metavar="N")
    change.add_argument("--json", action="store_true")
    change.set_defaults(handler=change_command)
    cancel = actions.add_parser("cancel", help="cancel; all who did not say no are told")
    cancel.add_argument("id", type=int, metavar="ID")
    cancel.add_argument("--reason")
    cancel.add_argument("--json", action="store_true")
    cancel.set_defaults(handler=cancel_command)
    present = actions.add_parser("attendance", help="record who came")
    present.add_argument("id", type=int, metavar="ID")
    present.add_argument("--present", default="", metavar="HOME,...")
    present.add_argument("--absent", default="", metavar="HOME,...")
    present.add_argument("--json", action="store_true")
    present.set_defaults(handler=attendance_command)
    stats = actions.add_parser("stats", help="events held and attendance per kommune and month")
    stats.add_argument("--kommune", metavar="ID")
    stats.add_argument("--from", dest="since", metavar="DATE")
    stats.add_argument("--to", dest="until", metavar="DATE")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=stats_command)


def instant(text: str, option: str, timezone: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 instant (no offset: wall-clock in `timezone`); with `end_of_day`, a
    bare date is the end of that day."""
    tz = zone(timezone)
    try:
        if end_of_day and len(text.strip()) == 10:
            day = date.fromisoformat(text.strip()) + timedelta(days=1)
            return local_instant(day, time(0), tz)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is not None:
        return value
    return local_instant(value.date(), value.time(), tz)


def _failed(error: EventProblem) -> CommandError:
    return CommandError(str(error))


def _print(args: argparse.Namespace, document: dict[str, Any], text: str) -> int:
    print(json.dumps(document, ensure_ascii=False) if args.json else text)
    return 0


async def create_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        timezone = loaded.org.helpline.timezone
        draft = Draft(
            args.kind, args.title, instant(args.starts, "--starts", timezone),
            instant(args.ends, "--ends", timezone), args.place, args.capacity,
            instant(args.rsvp_by, "--rsvp-by", timezone, end_of_day=True)
            if args.rsvp_by else None,
            args.note,
        )  # fmt: skip
        try:
            event_id = await create_event(services, loaded, draft, args.audience, ADMIN, _BY)
        except EventProblem as error:
            raise _failed(error) from None
    return _print(args, {"id": event_id}, str(event_id))


async def invite_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        try:
            homes = await invite_event(services, loaded, args.id, args.audience, ADMIN, _BY)
        except EventProblem as error:
            raise _failed(error) from None
    text = f"event {args.id}: {homes} foster homes invited now"
    return _print(args, {"id": args.id, "invited": homes}, text)


async def show_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        tz = zone(loaded.org.helpline.timezone)
        async with services.sessions() as session, session.begin():
            document = await show(session, args.id, tz, ADMIN)
            if document is not None:
                await access_log.record(
                    session, access_log.cli_reader(), "event.read", str(args.id), services.clock()
                )
    if document is None:
        raise CommandError(f"no event {args.id}")
    if args.json:
        print(json.dumps(document, ensure_ascii=False))
        return 0
    print(
        f"event {document['id']} ({document['kind']}, {document['status']}): "
        f"{document['title']}, {document['starts']} - {document['ends']}, {document['place']}"
    )
    print(
        f"capacity {document['capacity'] or 'unlimited'}; invited {document['invited']}, "
        f"yes {document['yes']} ({_people(document['people_yes'])}), no {document['no']}, "
        f"waitlist {document['waitlist']}, no answer {document['no_answer']}, "
        f"attended {document['attended']}"
    )
    for answer in document["answers"]:
        place = f" #{answer['position']}" if answer["position"] else ""
        print(
            f"  {answer['foster_home']:<20} {answer['answer']:<9}{place} {answer['people']} "
            f"by {answer['channel']} at {answer['at']}"
        )
    return 0


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


async def list_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        async with services.sessions() as session:
            found = await list_events(session, zone(loaded.org.helpline.timezone), ADMIN)
    if args.json:
        print(json.dumps({"events": found}, ensure_ascii=False))
        return 0
    for event in found:
        print(
            f"{event['id']:>4} {event['starts'][:16]} {event['status']:<9} {event['title']} "
            f"(yes {event['yes']}, waitlist {event['waitlist']}, invited {event['invited']})"
        )
    return 0


async def change_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        timezone = loaded.org.helpline.timezone
        change = Change(
            instant(args.starts, "--starts", timezone) if args.starts else None,
            instant(args.ends, "--ends", timezone) if args.ends else None,
            args.place,
            args.capacity,
        )
        try:
            told = await change_event(services, loaded, args.id, change, ADMIN)
        except EventProblem as error:
            raise _failed(error) from None
    return _print(args, {"id": args.id, "told": told}, f"event {args.id} changed; {told} told")


async def cancel_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        try:
            told = await cancel_event(services, loaded, args.id, args.reason, ADMIN)
        except EventProblem as error:
            raise _failed(error) from None
    text = f"event {args.id} cancelled; {told} foster homes told"
    return _print(args, {"id": args.id, "told": told}, text)


def _homes(text: str) -> list[str]:
    return [home.strip() for home in text.split(",") if home.strip()]


async def attendance_command(settings: Settings, args: argparse.Namespace) -> int:
    present, absent = _homes(args.present), _homes(args.absent)
    if not present and not absent:
        raise CommandError("give --present HOME,... (or --absent HOME,...)")
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        try:
            count = await mark_attendance(services, args.id, present, absent, ADMIN)
        except EventProblem as error:
            raise _failed(error) from None
    text = f"event {args.id}: {count} foster homes present"
    return _print(args, {"id": args.id, "attended": count}, text)


async def stats_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        timezone = loaded.org.helpline.timezone
        tz = zone(timezone)
        since = local_instant(parse_date(args.since, "--from"), time(0), tz) if args.since else None
        until = (
            local_instant(parse_date(args.until, "--to") + timedelta(days=1), time(0), tz)
            if args.until
            else None
        )
        async with services.sessions() as session:
            rows = await kommune_statistics(
                session, tz, ADMIN, services.clock(), args.kommune, since, until
            )
    if args.json:
        print(json.dumps({"kommuner": rows}, ensure_ascii=False))
        return 0
    print(f"{'kommune':<16} {'month':<8} {'events':>6} {'invited':>8} {'yes':>5} {'people':>7} "
          f"{'attended':>9}")  # fmt: skip
    for row in rows:
        print(
            f"{row['kommune']:<16} {row['month']:<8} {row['events']:>6} {row['invited']:>8} "
            f"{row['yes']:>5} {row['people_yes']:>7} {row['attended']:>9}"
        )
    return 0
