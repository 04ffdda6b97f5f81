"""`load`, `dump` and `demo`: the organisation and rota file (rota as code)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from importlib.resources import files
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bootstrap import Services, open_services
from helpline.commands.common import CommandError, Subparsers, require_org
from helpline.db.engine import check_migrated
from helpline.db.register import read_organisation, replace_organisation
from helpline.db.versions import lock_register, version_origins, version_text, versions_after
from helpline.settings import Settings
from helpline.welcomes import welcome_new_members
from rota.checks import warnings
from rota.orgfile import OrgFileError, dump_org, parse_org, read_org
from rota.versions import changes, stale_base


class StaleFile(Exception):
    """A file based on an older version than the register's: loading it would overwrite
    what changed since (a coordinator's override, say). The message lists it (English)."""

    def __init__(self, base: int, current: int, since: list[str]) -> None:
        self.base, self.current, self.since = base, current, since
        if base > current:
            head = (
                f"the file says it was dumped from version {base}, but the register is at "
                f"version {current} (a file from another database?)"
            )
        else:
            head = f"the file is based on version {base}; the register is at version {current}"
        lines = [head + ".", *since]
        lines.append(
            "Dump the register again (`helpline dump`) and edit that, or load with --force"
            " to overwrite what changed."
        )
        super().__init__("\n".join(lines))


def register(sub: Subparsers) -> None:
    load = sub.add_parser("load", help="replace the organisation with a rota file (TOML)")
    load.add_argument("file", type=Path)
    load.add_argument(
        "--force", action="store_true", help="load even if the register changed since the dump"
    )
    load.set_defaults(handler=load_command)
    dump = sub.add_parser("dump", help="write the organisation as a rota file (TOML)")
    dump.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    dump.set_defaults(handler=dump_command)
    demo = sub.add_parser("demo", help="load the demo organisation")
    demo.add_argument(
        "--force", action="store_true", help="load even if the register was edited in the console"
    )
    demo.set_defaults(handler=demo_command)


async def load_text(
    services: Services,
    text: str,
    *,
    force: bool = False,
    origin: str = "file",
    person: str | None = None,
    summary: str = "",
) -> int:
    """Parse and validate `text`, then replace the register in one transaction; the new
    version. Unless `force`, a file based on an older version than the register's is
    refused (`StaleFile`, see `rota.versions.stale_base`) and nothing changes. Console
    edits come here too, as the file of the edited organisation (`origin="console"`)."""
    org, stated = read_org(text)
    async with services.sessions() as session, session.begin():
        current = await lock_register(session)
        if not force and current is not None:
            base = stale_base(stated, current, await version_origins(session))
            if base is not None:
                raise StaleFile(base, current, await _changed_since(session, base))
        version = await replace_organisation(
            session, org, services.clock(), origin=origin, person=person, summary=summary
        )
    services.forget_organisation()
    # Read now, so that the next call does not wait on the build (a cold read under load
    # can outlast a voice step's timeout); the load stands even if this read fails.
    with contextlib.suppress(Exception):
        await services.organisation()
    return version


async def _changed_since(session: AsyncSession, base: int) -> list[str]:
    """The versions after `base`, then the entries that differ from `base` to now."""
    lines = ["Versions since:"]
    for row in await versions_after(session, base):
        made = f"{row.origin}, {row.person_id}" if row.person_id else row.origin
        what = f": {row.summary}" if row.summary else ""
        lines.append(f"  version {row.version} ({made}, {row.made_at:%Y-%m-%d %H:%M} UTC){what}")
    old_text = await version_text(session, base)
    current = await read_organisation(session)
    if old_text is None or current is None:
        lines.append(f"(version {base} is not kept: the entries that changed cannot be listed)")
        return lines
    try:
        old = parse_org(old_text)
    except OrgFileError:
        lines.append(f"(version {base} no longer reads: the entries cannot be compared)")
        return lines
    found = changes(old, current)
    lines.append(f"Entries changed since version {base}:")
    lines += [f"  {change}" for change in found] or ["  (none: only the version moved on)"]
    return lines


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
    return await _load_and_report(settings, text, str(args.file), args.force)


async def demo_command(settings: Settings, args: argparse.Namespace) -> int:
    return await _load_and_report(settings, demo_text(), "the demo organisation", args.force)


async def dump_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        loaded = await require_org(services)
        text = dump_org(loaded.org, loaded.version)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


async def load_and_welcome(
    services: Services, text: str, *, force: bool = False
) -> tuple[int, int]:
    """`load_text`, then welcome the foster homes that joined a group (after the commit:
    `helpline.welcomes`); the version and how many were welcomed."""
    version = await load_text(services, text, force=force)
    return version, await welcome_new_members(services)


async def _load_and_report(settings: Settings, text: str, source: str, force: bool) -> int:
    # With Redis: welcomes to new group members start the sending lanes.
    async with open_services(settings) as services:
        await check_migrated(services.engine)
        try:
            version, welcomed = await load_and_welcome(services, text, force=force)
        except (OrgFileError, StaleFile) as error:
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
