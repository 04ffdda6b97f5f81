"""The organisation register: an `Organisation` value in, the same value out.

`replace_organisation` swaps the whole register inside the caller's transaction, so a
load is all or nothing. Calendar feeds outlive reloads: a team or person keeps its feed
URL as long as it exists. Feed tokens are stored as SHA-256 only, so a URL is shown once,
when `rotate_feed` issues it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from helpline.db import models as m
from helpline.db import versions
from rota.model import (
    ACCESS_ROLES,
    Access,
    Coverage,
    CoverageRule,
    FosterHome,
    Group,
    HelplineConfig,
    Kommune,
    Organisation,
    Override,
    Person,
    Rotation,
    Season,
    Team,
)
from rota.orgfile import dump_org
from rota.orgfile.values import format_quiet_hours, parse_quiet_hours

_T = TypeVar("_T", bound=m.Base)

_REGISTER_TABLES: tuple[type[m.Base], ...] = (
    m.ConsoleAccessKommuneRow,
    m.ConsoleAccessRow,
    m.GroupStaffRow,
    m.GroupMemberRow,
    m.GroupRow,
    m.FosterHomePhoneRow,
    m.FosterHomeRow,
    m.OverrideRow,
    m.RotationMemberRow,
    m.RotationRow,
    m.CoverageRuleRow,
    m.PersonTeamRow,
    m.PersonRow,
    m.TeamKommuneRow,
    m.TeamRow,
    m.KommuneNumberRow,
    m.KommuneRow,
)


async def replace_organisation(
    session: AsyncSession,
    org: Organisation,
    now: datetime,
    *,
    origin: str = "file",
    person: str | None = None,
    summary: str = "",
) -> int:
    """Replace the register with `org`; returns the new version number.

    The version is recorded with its rota file text, how it was made (`origin`: "file"
    or "console") and by whom (`helpline.db.versions`)."""
    version = (await session.scalar(select(func.max(m.OrgMeta.version)))) or 0
    version = max(version, await versions.last_recorded(session))
    for table in _REGISTER_TABLES:
        await session.execute(delete(table))
    await session.execute(delete(m.OrgMeta))
    session.add(_meta_row(org.helpline, version + 1, now))
    rows = _register_rows(org)
    for table in reversed(_REGISTER_TABLES):  # parents before children
        session.add_all([row for row in rows if isinstance(row, table)])
        await session.flush()
    await _sync_feeds(session, org, now)
    await versions.record(
        session, version + 1, dump_org(org, version + 1), now, origin, person, summary
    )
    return version + 1


async def current_version(session: AsyncSession) -> int | None:
    """The version of the loaded organisation, None when none is loaded."""
    return await session.scalar(select(m.OrgMeta.version))


async def read_organisation(session: AsyncSession) -> Organisation | None:
    """The loaded organisation, None when none is loaded yet."""
    meta = await session.scalar(select(m.OrgMeta))
    if meta is None:
        return None
    rows = _Rows()
    await rows.fetch(session)
    return Organisation(
        helpline=HelplineConfig(
            fallback_phone=meta.fallback_phone,
            timezone=meta.timezone,
            message_deadline=timedelta(seconds=meta.message_deadline_seconds),
            extra_holidays=_parse_month_days(meta.extra_holidays),
            network_number=meta.network_number,
            quiet_hours=parse_quiet_hours(meta.quiet_hours),
            ressursfamilie_size=meta.ressursfamilie_size,
        ),
        kommuner=rows.kommuner(),
        teams=rows.teams(),
        people=rows.people(),
        coverage=rows.coverage(),
        rotations=rows.rotations(),
        overrides=rows.overrides(),
        foster_homes=rows.foster_homes(),
        groups=rows.groups(),
        access=rows.access(),
    )


def feed_token_hash(token: str) -> str:
    """Calendar feed tokens are stored as their SHA-256 only."""
    return hashlib.sha256(token.encode()).hexdigest()


async def calendar_feeds(session: AsyncSession) -> dict[tuple[str, str], m.CalendarFeedRow]:
    """`(kind, target_id) -> feed` of every calendar feed."""
    rows = await session.scalars(select(m.CalendarFeedRow))
    return {(row.kind, row.target_id): row for row in rows}


async def feed_by_token(session: AsyncSession, token: str) -> tuple[str, str] | None:
    """The `(kind, target_id)` a feed token belongs to."""
    row = await session.get(m.CalendarFeedRow, feed_token_hash(token))
    return None if row is None else (row.kind, row.target_id)


async def rotate_feed(
    session: AsyncSession, kind: str, target_id: str, now: datetime
) -> str | None:
    """Issue a new token for a feed (the old URL stops working); None for no such feed.

    The token is returned once and never stored."""
    row = await session.scalar(
        select(m.CalendarFeedRow).where(
            m.CalendarFeedRow.kind == kind, m.CalendarFeedRow.target_id == target_id
        )
    )
    if row is None:
        return None
    token = secrets.token_urlsafe(24)
    row.token_hash, row.rotated_at = feed_token_hash(token), now
    return token


def _meta_row(config: HelplineConfig, version: int, now: datetime) -> m.OrgMeta:
    return m.OrgMeta(
        id=1,
        version=version,
        loaded_at=now,
        timezone=config.timezone,
        fallback_phone=config.fallback_phone,
        message_deadline_seconds=int(config.message_deadline.total_seconds()),
        extra_holidays=",".join(f"{mo:02d}-{d:02d}" for mo, d in config.extra_holidays),
        network_number=config.network_number,
        quiet_hours=format_quiet_hours(config.quiet_hours),
        ressursfamilie_size=config.ressursfamilie_size,
    )


def _register_rows(org: Organisation) -> list[m.Base]:
    rows: list[m.Base] = []
    for i, k in enumerate(org.kommuner):
        rows.append(m.KommuneRow(id=k.id, name=k.name, position=i))
        rows += [
            m.KommuneNumberRow(number=n, kommune_id=k.id, position=j)
            for j, n in enumerate(k.numbers)
        ]
    for i, t in enumerate(org.teams):
        rows.append(
            m.TeamRow(id=t.id, name=t.name, kind=t.kind, duty_phone=t.duty_phone, position=i)
        )
        rows += [
            m.TeamKommuneRow(team_id=t.id, kommune_id=k, position=j)
            for j, k in enumerate(t.kommuner)
        ]
    for i, p in enumerate(org.people):
        rows.append(m.PersonRow(id=p.id, name=p.name, phone=p.phone, position=i))
        rows += [
            m.PersonTeamRow(person_id=p.id, team_id=t, position=j) for j, t in enumerate(p.teams)
        ]
    for c in org.coverage:
        rows += [_rule_row(c.kommune, j, rule) for j, rule in enumerate(c.rules)]
    for r in org.rotations:
        rows.append(m.RotationRow(team_id=r.team, start_at=r.start, every_days=r.every.days))
        rows += [
            m.RotationMemberRow(team_id=r.team, position=j, person_id=p)
            for j, p in enumerate(r.members)
        ]
    rows += [
        m.OverrideRow(
            team_id=o.team, person_id=o.person, start_at=o.start, end_at=o.end, position=i
        )
        for i, o in enumerate(org.overrides)
    ]
    for i, f in enumerate(org.foster_homes):
        rows.append(m.FosterHomeRow(id=f.id, name=f.name, kommune_id=f.kommune, position=i))
        rows += [
            m.FosterHomePhoneRow(foster_home_id=f.id, phone=p, position=j)
            for j, p in enumerate(f.phones)
        ]
    for i, g in enumerate(org.groups):
        rows.append(
            m.GroupRow(
                id=g.id,
                name=g.name,
                kind=g.kind,
                kommune_id=g.kommune,
                hub_id=g.hub,
                number=g.number,
                position=i,
            )
        )
        rows += [
            m.GroupMemberRow(group_id=g.id, foster_home_id=h, position=j)
            for j, h in enumerate(g.members)
        ]
        rows += [
            m.GroupStaffRow(group_id=g.id, person_id=p, position=j) for j, p in enumerate(g.staff)
        ]
    for i, a in enumerate(org.access):
        rows.append(m.ConsoleAccessRow(person_id=a.person, role=a.role, position=i))
        rows += [
            m.ConsoleAccessKommuneRow(person_id=a.person, kommune_id=k, position=j)
            for j, k in enumerate(a.kommuner)
        ]
    return rows


def _rule_row(kommune: str, position: int, rule: CoverageRule) -> m.CoverageRuleRow:
    season = None
    if rule.season is not None:
        (sm, sd), (em, ed) = rule.season.start, rule.season.end
        season = f"{sm:02d}-{sd:02d}..{em:02d}-{ed:02d}"
    return m.CoverageRuleRow(
        kommune_id=kommune,
        position=position,
        days=",".join(sorted(rule.days)),
        start_time=rule.start.strftime("%H:%M"),
        end_time=rule.end.strftime("%H:%M"),
        team_id=rule.team,
        season=season,
    )


async def _sync_feeds(session: AsyncSession, org: Organisation, now: datetime) -> None:
    wanted = {("team", t.id) for t in org.teams} | {("person", p.id) for p in org.people}
    existing = await calendar_feeds(session)
    stale = [row.token_hash for key, row in existing.items() if key not in wanted]
    if stale:
        await session.execute(
            delete(m.CalendarFeedRow).where(m.CalendarFeedRow.token_hash.in_(stale))
        )
    for kind, target in sorted(wanted - existing.keys()):
        # Not issued yet: the token is thrown away, `rotate_feed` issues a usable one.
        unissued = feed_token_hash(secrets.token_urlsafe(24))
        session.add(
            m.CalendarFeedRow(token_hash=unissued, kind=kind, target_id=target, created_at=now)
        )


def _parse_month_days(text: str) -> tuple[tuple[int, int], ...]:
    days = []
    for part in filter(None, text.split(",")):
        month, day = part.split("-")
        days.append((int(month), int(day)))
    return tuple(days)


def _time(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


class _Rows:
    """The register's rows, grouped for turning back into an `Organisation`."""

    async def fetch(self, session: AsyncSession) -> None:
        async def all_of(model: type[_T], *order: InstrumentedAttribute[Any]) -> list[_T]:
            return list(await session.scalars(select(model).order_by(*order)))

        self.kommune_rows = await all_of(m.KommuneRow, m.KommuneRow.position)
        self.numbers = _group(
            await all_of(m.KommuneNumberRow, m.KommuneNumberRow.position),
            lambda r: r.kommune_id,
            lambda r: r.number,
        )
        self.team_rows = await all_of(m.TeamRow, m.TeamRow.position)
        self.team_kommuner = _group(
            await all_of(m.TeamKommuneRow, m.TeamKommuneRow.position),
            lambda r: r.team_id,
            lambda r: r.kommune_id,
        )
        self.person_rows = await all_of(m.PersonRow, m.PersonRow.position)
        self.person_teams = _group(
            await all_of(m.PersonTeamRow, m.PersonTeamRow.position),
            lambda r: r.person_id,
            lambda r: r.team_id,
        )
        self.rule_rows = await all_of(m.CoverageRuleRow, m.CoverageRuleRow.position)
        self.rotation_rows = await all_of(m.RotationRow, m.RotationRow.team_id)
        self.members = _group(
            await all_of(m.RotationMemberRow, m.RotationMemberRow.position),
            lambda r: r.team_id,
            lambda r: r.person_id,
        )
        self.override_rows = await all_of(m.OverrideRow, m.OverrideRow.position)
        self.home_rows = await all_of(m.FosterHomeRow, m.FosterHomeRow.position)
        self.home_phones = _group(
            await all_of(m.FosterHomePhoneRow, m.FosterHomePhoneRow.position),
            lambda r: r.foster_home_id,
            lambda r: r.phone,
        )
        self.group_rows = await all_of(m.GroupRow, m.GroupRow.position)
        self.group_members = _group(
            await all_of(m.GroupMemberRow, m.GroupMemberRow.position),
            lambda r: r.group_id,
            lambda r: r.foster_home_id,
        )
        self.group_staff = _group(
            await all_of(m.GroupStaffRow, m.GroupStaffRow.position),
            lambda r: r.group_id,
            lambda r: r.person_id,
        )
        self.access_rows = await all_of(m.ConsoleAccessRow, m.ConsoleAccessRow.position)
        self.access_kommuner = _group(
            await all_of(m.ConsoleAccessKommuneRow, m.ConsoleAccessKommuneRow.position),
            lambda r: r.person_id,
            lambda r: r.kommune_id,
        )

    def kommuner(self) -> tuple[Kommune, ...]:
        return tuple(Kommune(r.id, r.name, tuple(self.numbers[r.id])) for r in self.kommune_rows)

    def teams(self) -> tuple[Team, ...]:
        return tuple(
            Team(
                r.id,
                r.name,
                "barnevernvakt" if r.kind == "barnevernvakt" else "kommune",
                tuple(self.team_kommuner[r.id]),
                r.duty_phone,
            )
            for r in self.team_rows
        )

    def people(self) -> tuple[Person, ...]:
        return tuple(
            Person(r.id, r.name, r.phone, tuple(self.person_teams[r.id])) for r in self.person_rows
        )

    def coverage(self) -> tuple[Coverage, ...]:
        rules: dict[str, list[CoverageRule]] = defaultdict(list)
        for r in self.rule_rows:
            rules[r.kommune_id].append(
                CoverageRule(
                    days=frozenset(r.days.split(",")),
                    start=_time(r.start_time),
                    end=_time(r.end_time),
                    team=r.team_id,
                    season=_season(r.season),
                )
            )
        return tuple(Coverage(k.id, tuple(rules[k.id])) for k in self.kommune_rows if k.id in rules)

    def rotations(self) -> tuple[Rotation, ...]:
        by_team = {r.team_id: r for r in self.rotation_rows}
        return tuple(
            Rotation(
                t.id,
                tuple(self.members[t.id]),
                by_team[t.id].start_at,
                timedelta(days=by_team[t.id].every_days),
            )
            for t in self.team_rows
            if t.id in by_team
        )

    def overrides(self) -> tuple[Override, ...]:
        return tuple(
            Override(r.team_id, r.person_id, r.start_at, r.end_at) for r in self.override_rows
        )

    def foster_homes(self) -> tuple[FosterHome, ...]:
        return tuple(
            FosterHome(r.id, r.name, r.kommune_id, tuple(self.home_phones[r.id]))
            for r in self.home_rows
        )

    def groups(self) -> tuple[Group, ...]:
        return tuple(
            Group(
                r.id,
                r.name,
                "ressursfamilie" if r.kind == "ressursfamilie" else "nettverk",
                r.kommune_id,
                r.hub_id,
                tuple(self.group_members[r.id]),
                tuple(self.group_staff[r.id]),
                r.number,
            )
            for r in self.group_rows
        )

    def access(self) -> tuple[Access, ...]:
        roles = {role: role for role in ACCESS_ROLES}
        return tuple(
            Access(r.person_id, roles[r.role], tuple(self.access_kommuner[r.person_id]))
            for r in self.access_rows
            if r.role in roles  # a role this code does not know gives no access
        )


def _group(
    rows: list[_T], key: Callable[[_T], str], value: Callable[[_T], str]
) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(value(row))
    return grouped


def _season(text: str | None) -> Season | None:
    if text is None:
        return None
    start, end = text.split("..")
    (sm, sd), (em, ed) = _parse_month_days(start)[0], _parse_month_days(end)[0]
    return Season((sm, sd), (em, ed))
