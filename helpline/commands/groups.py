"""`group list`, `group messages`, `group mute` and `group unmute`: the network's groups.

A muted member's messages to the group are stored and not relayed. A mute outlives
reloads of the rota file; muting twice keeps the first mute. `group messages` shows what
members wrote, so every run is recorded in the access log (`cli:<os user>`) in the
transaction that reads.
"""

from __future__ import annotations

import argparse
import json

from helpline import access_log
from helpline.bootstrap import LoadedOrg, open_services
from helpline.commands.common import CommandError, Subparsers, require_org
from helpline.db.engine import check_migrated
from helpline.groups import messages, mute, unmute
from helpline.settings import Settings
from rota.orgfile.table import unknown
from rota.wallclock import zone
from routing.groups import membership

_MUTED_BY = "cli"


def register(sub: Subparsers) -> None:
    group = sub.add_parser("group", help="the network's groups (ressursfamilier, nettverk)")
    actions = group.add_subparsers(dest="group_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every group, in file order")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)
    shown = actions.add_parser("messages", help="a group's messages, newest first (audited)")
    shown.add_argument("group", metavar="GROUP", help="group id")
    shown.add_argument("--limit", type=int, default=50)
    shown.add_argument("--json", action="store_true")
    shown.set_defaults(handler=messages_command)
    for name, handler, text in [
        ("mute", mute_command, "store a member's group messages without relaying them"),
        ("unmute", unmute_command, "relay a muted member's group messages again"),
    ]:
        action = actions.add_parser(name, help=text)
        action.add_argument("group", metavar="GROUP", help="group id")
        action.add_argument("home", metavar="HOME", help="foster home id")
        action.set_defaults(handler=handler)


async def list_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        org = (await require_org(services)).org
    groups = [
        {
            "id": g.id,
            "name": g.name,
            "kind": g.kind,
            "kommune": g.kommune,
            "hub": g.hub,
            "member_count": len(g.members),
            "number": g.number,
        }
        for g in org.groups
    ]
    if args.json:
        document = {"network_number": org.helpline.network_number, "groups": groups}
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    if not groups:
        print("no groups: add [[group]] entries to the rota file")
        return 0
    print(f"{'ID':<22}{'NAME':<34}{'KIND':<16}{'KOMMUNE':<12}{'HUB':<14}{'MEMBERS':>7}  NUMBER")
    for g in groups:
        print(
            f"{g['id']!s:<22}{g['name']!s:<34}{g['kind']!s:<16}{g['kommune']!s:<12}"
            f"{g['hub'] or '-'!s:<14}{g['member_count']!s:>7}  {g['number'] or '-'}"
        )
    network = org.helpline.network_number
    print(f"network number (groups without their own): {network or 'none'}")
    return 0


async def messages_command(settings: Settings, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 1000:
        raise CommandError("--limit must be from 1 to 1000")
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        directory = loaded.directory
        if args.group not in directory.groups:
            raise CommandError(unknown("group", args.group, directory.groups))
        async with services.sessions() as session, session.begin():
            found = await messages(session, args.group, args.limit)
            target = f"group:{args.group} limit={args.limit}"
            await access_log.record(
                session, access_log.cli_reader(), "group.messages", target, services.clock()
            )
    tz = zone(loaded.org.helpline.timezone)
    shown = [
        {
            "id": m.id,
            "at": m.created_at.astimezone(tz).isoformat(),
            "from": _author(loaded, m.foster_home_id, m.sender_person_id),
            "channel": m.channel,
            "relayed": m.relayed,
            "muted": m.muted,
            "body": None if m.content_purged_at else m.body,
        }
        for m in found
    ]
    if args.json:
        print(json.dumps({"group": args.group, "messages": shown}, ensure_ascii=False, indent=2))
        return 0
    if not shown:
        print(f"no messages in group {args.group!r}")
    for m in shown:
        state = "muted" if m["muted"] else "relayed" if m["relayed"] else "not relayed"
        body = "(blanked by retention)" if m["body"] is None else m["body"]
        print(f"{str(m['at'])[:16]}  {m['from']}  [{m['channel']}, {state}]\n  {body}")
    return 0


def _author(loaded: LoadedOrg, home_id: str | None, person_id: str | None) -> str:
    directory = loaded.directory
    if home_id is not None:
        home = directory.homes.get(home_id)
        return home.name if home else f"foster home {home_id} (left the register)"
    person = directory.people.get(person_id) if person_id else None
    return f"{person.name} (staff)" if person else f"person {person_id} (left the register)"


async def mute_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        _check_member(await require_org(services), args.group, args.home)
        async with services.sessions() as session, session.begin():
            muted = await mute(session, args.group, args.home, services.clock(), _MUTED_BY)
    where = f"foster home {args.home!r} in group {args.group!r}"
    if muted:
        print(f"muted {where}: their messages are stored and not relayed")
    else:
        print(f"{where} was already muted")
    return 0


async def unmute_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        _check_member(await require_org(services), args.group, args.home)
        async with services.sessions() as session, session.begin():
            unmuted = await unmute(session, args.group, args.home)
    where = f"foster home {args.home!r} in group {args.group!r}"
    print(f"unmuted {where}" if unmuted else f"{where} was not muted")
    return 0


def _check_member(loaded: LoadedOrg, group_id: str, home_id: str) -> None:
    directory = loaded.directory
    match membership(directory, group_id, home_id):
        case "unknown_group":
            raise CommandError(unknown("group", group_id, directory.groups))
        case "unknown_home":
            raise CommandError(unknown("foster home", home_id, directory.homes))
        case "not_member":
            homes = ", ".join(directory.groups[group_id].homes)
            raise CommandError(
                f"foster home {home_id!r} is not in group {group_id!r} (its homes: {homes})"
            )
