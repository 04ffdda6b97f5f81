"""`group list`, `group mute` and `group unmute`: the network's groups.

A muted member's messages to the group are stored and not relayed. A mute outlives
reloads of the rota file; muting twice keeps the first mute.
"""

from __future__ import annotations

import argparse
import json

from helpline.bootstrap import LoadedOrg, open_services
from helpline.commands.common import CommandError, Subparsers, require_org
from helpline.db.engine import check_migrated
from helpline.groups import mute, unmute
from helpline.settings import Settings
from rota.orgfile.table import unknown
from routing.groups import membership

_MUTED_BY = "cli"


def register(sub: Subparsers) -> None:
    group = sub.add_parser("group", help="the network's groups (ressursfamilier, nettverk)")
    actions = group.add_subparsers(dest="group_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every group, in file order")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)
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
