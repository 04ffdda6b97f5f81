"""`load`, `dump` and `demo`: the organisation and rota file (rota as code)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from importlib.resources import files
from pathlib import Path

from helpline.bootstrap import Services, open_services
from helpline.commands.common import CommandError, Subparsers, require_org
from helpline.db.engine import check_migrated
from helpline.db.register import replace_organisation
from helpline.settings import Settings
from helpline.welcomes import welcome_new_members
from rota.checks import warnings
from rota.orgfile import OrgFileError, dump_org, parse_org


def register(sub: Subparsers) -> None:
    load = sub.add_parser("load", help="replace the organisation with a rota file (TOML)")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=load_command)
    dump = sub.add_parser("dump", help="write the organisation as a rota file (TOML)")
    dump.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    dump.set_defaults(handler=dump_command)
    demo = sub.add_parser("demo", help="load the demo organisation")
    demo.set_defaults(handler=demo_command)


async def load_text(services: Services, text: str) -> int:
    """Parse and validate `text`, then replace the register in one transaction."""
    org = parse_org(text)
    async with services.sessions() as session, session.begin():
        version = await replace_organisation(session, org, services.clock())
    services.forget_organisation()
    return version


async def load_file(services: Services, path: Path) -> tuple[int, int]:
    """`load_and_welcome` of a file."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    return await load_and_welcome(services, text)


def demo_text() -> str:
    """The rota file of the demo organisation (package data)."""
    return (files("helpline") / "demo.toml").read_text(encoding="utf-8")


async def load_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        text = await asyncio.to_thread(Path(args.file).read_text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot read {args.file}: {error.strerror}") from None
    return await _load_and_report(settings, text, str(args.file))


async def demo_command(settings: Settings, _args: argparse.Namespace) -> int:
    return await _load_and_report(settings, demo_text(), "the demo organisation")


async def dump_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        text = dump_org((await require_org(services)).org)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


async def load_and_welcome(services: Services, text: str) -> tuple[int, int]:
    """`load_text`, then welcome the foster homes that joined a group (after the commit:
    `helpline.welcomes`); the version and how many were welcomed."""
    version = await load_text(services, text)
    return version, await welcome_new_members(services)


async def _load_and_report(settings: Settings, text: str, source: str) -> int:
    # With Redis: welcomes to new group members start the sending lanes.
    async with open_services(settings) as services:
        await check_migrated(services.engine)
        try:
            version, welcomed = await load_and_welcome(services, text)
        except OrgFileError as error:
            raise CommandError(f"{source} not loaded, nothing changed:\n{error}") from None
        org = parse_org(text)
    print(
        f"loaded {source} (version {version}): {len(org.kommuner)} kommuner, "
        f"{len(org.teams)} teams, {len(org.people)} people, "
        f"{len(org.foster_homes)} foster homes, {len(org.groups)} groups"
    )
    if welcomed:
        plural = "s" if welcomed != 1 else ""
        print(f"welcomed {welcomed} new group member{plural} (see `helpline outbox`)")
    for warning in warnings(org):
        print(f"warning: {warning}", file=sys.stderr)
    return 0
