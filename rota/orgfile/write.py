"""Writing an organisation file: an `Organisation` back to TOML in the layout of DESIGN.md."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import tomli_w

from rota.model import (
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
    Team,
)
from rota.orgfile.values import (
    format_days,
    format_duration,
    format_local,
    format_month_day,
    format_quiet_hours,
    format_season,
    format_time,
)
from rota.wallclock import zone

_INLINE_WIDTH = 80
_VERSION_NOTE = (
    "# Dumped from this version of the register: loading the file after the register\n"
    "# has changed (say, an override made in the console) is refused without --force.\n"
)
_HEADER = (
    "# Fosterhjemstelefonen: organisation and rota.\n"
    "# Times are wall-clock in the timezone of [helpline].\n"
)


def dump_org(org: Organisation, version: int | None = None) -> str:
    """Write `org` in the file format `parse_org` reads; `parse_org(dump_org(org)) == org`
    for any organisation that `parse_org` produced. `version` is the register version
    `org` is, written as `version = N` so a later load can tell what changed since."""
    tz = zone(org.helpline.timezone)
    header = _HEADER
    if version is not None:
        header += _VERSION_NOTE + f"version = {version}\n"
    chunks = [header, _table("[helpline]", _helpline_doc(org.helpline))]
    chunks += [_table("[[kommune]]", _kommune_doc(k)) for k in org.kommuner]
    chunks += [_table("[[team]]", _team_doc(t)) for t in org.teams]
    chunks += [_table("[[person]]", _person_doc(p)) for p in org.people]
    chunks += [_coverage_table(c) for c in org.coverage]
    chunks += [_table("[[rotation]]", _rotation_doc(r, tz)) for r in org.rotations]
    chunks += [_table("[[override]]", _override_doc(o, tz)) for o in org.overrides]
    chunks += [_table("[[foster_home]]", _foster_home_doc(h)) for h in org.foster_homes]
    chunks += [_table("[[group]]", _group_doc(g)) for g in org.groups]
    chunks += [_table("[[access]]", _access_doc(a)) for a in org.access]
    return "\n".join(chunks)


_Doc = dict[str, str | int | list[str]]


def _table(header: str, doc: _Doc) -> str:
    # Keys are our own bare words; tomli_w encodes each string value. Writing the lines
    # here keeps the layout of DESIGN.md: one [[section]] per entry, short lists inline.
    return header + "\n" + "".join(f"{key} = {_value(value)}\n" for key, value in doc.items())


def _value(value: str | int | list[str]) -> str:
    if isinstance(value, str):
        return _literal(value)
    if isinstance(value, int):
        return str(value)
    inline = "[" + ", ".join(_literal(item) for item in value) + "]"
    if len(inline) <= _INLINE_WIDTH:
        return inline
    return "[\n" + "".join(f"  {_literal(item)},\n" for item in value) + "]"


def _literal(value: str) -> str:
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def _helpline_doc(config: HelplineConfig) -> _Doc:
    doc: _Doc = {
        "timezone": config.timezone,
        "fallback_phone": config.fallback_phone,
        "message_deadline": format_duration(config.message_deadline),
        "extra_holidays": [format_month_day(day) for day in config.extra_holidays],
    }
    if config.network_number is not None:
        doc["network_number"] = config.network_number
    doc["quiet_hours"] = format_quiet_hours(config.quiet_hours)
    doc["ressursfamilie_size"] = config.ressursfamilie_size
    return doc


def _kommune_doc(kommune: Kommune) -> _Doc:
    return {"id": kommune.id, "name": kommune.name, "numbers": list(kommune.numbers)}


def _team_doc(team: Team) -> _Doc:
    doc: _Doc = {
        "id": team.id,
        "name": team.name,
        "kind": team.kind,
        "kommuner": list(team.kommuner),
    }
    if team.duty_phone is not None:
        doc["duty_phone"] = team.duty_phone
    return doc


def _person_doc(person: Person) -> _Doc:
    return {
        "id": person.id,
        "name": person.name,
        "phone": person.phone,
        "teams": list(person.teams),
    }


def _coverage_table(coverage: Coverage) -> str:
    rules = "".join(f"  {_rule_inline(rule)},\n" for rule in coverage.rules)
    return f"{_table('[[coverage]]', {'kommune': coverage.kommune})}rules = [\n{rules}]\n"


def _rule_inline(rule: CoverageRule) -> str:
    fields = {
        "days": format_days(rule.days),
        "from": format_time(rule.start),
        "to": format_time(rule.end),
        "team": rule.team,
    }
    if rule.season is not None:
        fields["season"] = format_season(rule.season)
    return "{ " + ", ".join(f"{key} = {_literal(value)}" for key, value in fields.items()) + " }"


def _rotation_doc(rotation: Rotation, tz: ZoneInfo) -> _Doc:
    return {
        "team": rotation.team,
        "members": list(rotation.members),
        "start": format_local(rotation.start, tz),
        "every": format_duration(rotation.every),
    }


def _override_doc(override: Override, tz: ZoneInfo) -> _Doc:
    return {
        "team": override.team,
        "person": override.person,
        "from": format_local(override.start, tz),
        "to": format_local(override.end, tz),
    }


def _foster_home_doc(home: FosterHome) -> _Doc:
    return {"id": home.id, "name": home.name, "kommune": home.kommune, "phones": list(home.phones)}


def _group_doc(group: Group) -> _Doc:
    doc: _Doc = {"id": group.id, "name": group.name, "kind": group.kind, "kommune": group.kommune}
    if group.hub is not None:
        doc["hub"] = group.hub
    doc["members"] = list(group.members)
    doc["staff"] = list(group.staff)
    if group.number is not None:
        doc["number"] = group.number
    return doc


def _access_doc(access: Access) -> _Doc:
    doc: _Doc = {"person": access.person, "role": access.role}
    if access.kommuner:
        doc["kommuner"] = list(access.kommuner)
    return doc
