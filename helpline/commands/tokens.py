"""`token create|list|revoke`: the coordinators' API tokens.

A token belongs to a person of the register, has a role and a kommune scope
(`routing.access`) and expires. It is printed once; the database keeps its SHA-256.
Names are unique for good, revoked tokens included, so `api:<name>` in the access log
always means one token.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
from datetime import datetime

from sqlalchemy import ColumnElement, select

from helpline.bootstrap import open_services
from helpline.commands.common import CommandError, Subparsers, require_org
from helpline.db.engine import check_migrated
from helpline.db.models import ApiTokenRow
from helpline.settings import Settings
from helpline.web.api import token_hash
from rota.wallclock import OSLO, zone
from routing.access import ROLES, GrantError, grant_scope, token_lifetime

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,99}")
MAX_ID = 2_147_483_647


def register(sub: Subparsers) -> None:
    token = sub.add_parser("token", help="API tokens for coordinators")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a bearer token (shown once)")
    create.add_argument("name", help="who or what uses it, e.g. 'asker-kari'")
    create.add_argument("--person", metavar="ID", required=True, help="whose token it is")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument(
        "--kommune",
        metavar="ID",
        action="append",
        default=[],
        help="a kommune a koordinator may read (repeat for more)",
    )
    create.add_argument("--expires-in", metavar="DAYS", help="e.g. 30d or 12w (default 90d)")
    create.set_defaults(handler=create_command)
    listing = actions.add_parser("list", help="every token: scope, expiry, last use")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_command)
    revoke = actions.add_parser("revoke", help="turn a token off for good")
    revoke.add_argument("token", metavar="ID|NAME")
    revoke.set_defaults(handler=revoke_command)


async def create_command(settings: Settings, args: argparse.Namespace) -> int:
    if _NAME.fullmatch(args.name) is None:
        raise CommandError(
            f"invalid token name {args.name!r}: a letter, then letters, digits, '.', '_' "
            "or '-', at most 100 characters"
        )
    token = secrets.token_urlsafe(32)
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        org = (await require_org(services)).org
        if args.person not in {p.id for p in org.people}:
            raise CommandError(f"unknown person {args.person!r}: not in the loaded register")
        try:
            scope = grant_scope(args.role, args.kommune, [k.id for k in org.kommuner])
            lifetime = token_lifetime(args.expires_in)
        except GrantError as error:
            raise CommandError(str(error)) from None
        async with services.sessions() as session, session.begin():
            named = select(ApiTokenRow.id).where(ApiTokenRow.name == args.name)
            if await session.scalar(named) is not None:
                raise CommandError(f"a token named {args.name!r} exists already: pick another name")
            now = services.clock()
            session.add(
                ApiTokenRow(
                    name=args.name,
                    token_hash=token_hash(token),
                    created_at=now,
                    person_id=args.person,
                    role=scope.role,
                    kommuner=",".join(sorted(scope.kommuner)),
                    expires_at=now + lifetime,
                )
            )
    print(token)
    return 0


async def list_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        async with services.sessions() as session:
            rows = list(await session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)))
    tokens = [_listed(row) for row in rows]
    if args.json:
        print(json.dumps({"tokens": tokens}, ensure_ascii=False, indent=2))
        return 0
    print(
        f"{'ID':>4}  {'NAME':<24}{'PERSON':<12}{'ROLE':<13}{'KOMMUNER':<20}{'CREATED':<12}"
        f"{'EXPIRES':<12}{'REVOKED':<12}LAST USED"
    )
    for t in tokens:
        kommuner = ",".join(t["kommuner"]) if isinstance(t["kommuner"], list) else "all"
        print(
            f"{t['id']:>4}  {t['name']!s:<24}{t['person'] or '-':<12}{t['role']!s:<13}"
            f"{kommuner:<20}{_day(t['created_at']):<12}{_day(t['expires_at']):<12}"
            f"{_day(t['revoked_at']):<12}{_minute(t['last_used_at'])}"
        )
    if not tokens:
        print("no API tokens: `helpline token create NAME --person ID --role ROLE` makes one")
    return 0


async def revoke_command(settings: Settings, args: argparse.Namespace) -> int:
    wanted = args.token.strip()
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        async with services.sessions() as session, session.begin():
            row = await session.scalar(select(ApiTokenRow).where(_selected(wanted)))
            if row is None:
                raise CommandError(f"no API token {wanted!r} (see `helpline token list`)")
            if row.revoked_at is not None:
                print(
                    f"token {row.id} {row.name!r} was revoked already, "
                    f"at {row.revoked_at.isoformat(timespec='minutes')}"
                )
                return 0
            row.revoked_at = services.clock()
    print(f"revoked token {row.id} {row.name!r}")
    return 0


def _selected(wanted: str) -> ColumnElement[bool]:
    """By id when all digits (names start with a letter), else by name."""
    if not (wanted.isascii() and wanted.isdigit()):
        return ApiTokenRow.name == wanted
    if len(wanted) > 10 or int(wanted) > MAX_ID:
        raise CommandError(f"no API token {wanted!r} (see `helpline token list`)")
    return ApiTokenRow.id == int(wanted)


def _listed(row: ApiTokenRow) -> dict[str, object]:
    """A token as `token list` shows it: never the token or its hash."""

    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "id": row.id,
        "name": row.name,
        "person": row.person_id,
        "role": row.role,
        "kommuner": None if row.role == "admin" else [k for k in row.kommuner.split(",") if k],
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "revoked_at": iso(row.revoked_at),
        "last_used_at": iso(row.last_used_at),
    }


def _day(iso: object) -> str:
    return _local(iso)[:10]


def _minute(iso: object) -> str:
    return _local(iso)


def _local(iso: object) -> str:
    if not isinstance(iso, str):
        return "-"
    return datetime.fromisoformat(iso).astimezone(zone(OSLO)).strftime("%Y-%m-%d %H:%M")
