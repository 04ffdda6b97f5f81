"""Reading an organisation file: TOML text to an `Organisation`, every problem at once.

The sections are read in dependency order, so every cross-reference points backwards: a
team's kommuner are known when the team is read, a rotation's team and members when the
rotation is.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Collection, Mapping
from typing import TypeVar, cast
from zoneinfo import ZoneInfoNotFoundError

from rota.coverage import Overlap, overlaps
from rota.model import (
    WEEKDAYS,
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
    TeamKind,
)
from rota.orgfile.access import AccessReader
from rota.orgfile.network import GroupReader, NumberClaims
from rota.orgfile.table import (
    SECTIONS,
    VERSION_KEY,
    Entry,
    OrgError,
    OrgFileError,
    describe,
    did_you_mean,
    entry_name,
    unknown,
)
from rota.orgfile.values import (
    format_month_day,
    format_time,
    local_parser,
    parse_days,
    parse_duration,
    parse_month_day,
    parse_period,
    parse_quiet_hours,
    parse_season,
    parse_time,
)
from rota.phones import mask_phone, normalise_phone
from rota.wallclock import OSLO, zone

T = TypeVar("T")

_TEAM_KINDS: tuple[TeamKind, ...] = ("kommune", "barnevernvakt")
_DEFAULTS = HelplineConfig(fallback_phone="")


def parse_org(text: str) -> Organisation:
    """Read an organisation file; raise `OrgFileError` listing every problem found."""
    return read_org(text)[0]


def read_org(text: str) -> tuple[Organisation, int | None]:
    """`parse_org`, and the file's `version = N` (the register version it was dumped
    from), None for a file that names none."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OrgFileError([OrgError("file", "", f"TOML syntax error: {exc}")]) from None
    return read_org_data(data)


def parse_org_data(data: Mapping[str, object]) -> Organisation:
    """`parse_org` of a TOML document already read into tables (an edit of one entry
    is the current organisation's tables with that entry's table replaced)."""
    return read_org_data(data)[0]


def read_org_data(data: Mapping[str, object]) -> tuple[Organisation, int | None]:
    """`read_org` of a TOML document already read into tables."""
    errors: list[OrgError] = []
    version = _version(data, errors)
    org = _Parser(errors).organisation(data)
    if errors:
        raise OrgFileError(errors)
    return org, version


def _version(data: Mapping[str, object], errors: list[OrgError]) -> int | None:
    value = data.get(VERSION_KEY)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        shown = repr(value) if isinstance(value, int) else describe(value)
        message = f"expected the register version the file was dumped from (1 or more), got {shown}"
        errors.append(OrgError("file", VERSION_KEY, message))
        return None
    return value


class _Parser:
    """Reads the sections in dependency order, so every reference points backwards."""

    def __init__(self, errors: list[OrgError]) -> None:
        self.errors = errors
        self.tz = zone(OSLO)
        # Ids are registered even when the rest of their entry is broken: one mistake, one
        # error, not a cascade of "unknown ..." wherever the entry is referenced.
        self.kommune_ids: dict[str, str] = {}
        self.team_kommuner: dict[str, tuple[str, ...] | None] = {}  # None: unreadable
        self.person_teams: dict[str, tuple[str, ...]] = {}
        self.home_ids: dict[str, str] = {}
        self.numbers = NumberClaims()  # helpline, network and group numbers
        self.home_phone_owner: dict[str, str] = {}  # foster home phone -> foster home id
        self.covered: dict[str, str] = {}  # kommune id -> its coverage entry
        self.rotated: dict[str, str] = {}  # team id -> its rotation entry
        self.groups = GroupReader(self.kommune_ids, self.home_ids, self.person_teams, self.numbers)
        self.access_entries = AccessReader(self.kommune_ids, self.person_teams)

    def organisation(self, data: Mapping[str, object]) -> Organisation:
        for key in data:
            if key not in SECTIONS and key != VERSION_KEY:
                message = f"unknown section{did_you_mean(key, SECTIONS)}"
                self.errors.append(OrgError("file", key, message))
        helpline = self.helpline(data.get("helpline", {}))  # first: it sets the timezone
        return Organisation(
            helpline=helpline,
            kommuner=self.each(data, "kommune", self.kommune),
            teams=self.each(data, "team", self.team),
            people=self.each(data, "person", self.person),
            coverage=self.each(data, "coverage", self.coverage),
            rotations=self.each(data, "rotation", self.rotation),
            overrides=self.each(data, "override", self.override),
            foster_homes=self.each(data, "foster_home", self.foster_home),
            groups=self.each(data, "group", self.group),
            access=self.each(data, "access", self.access),
        )

    def each(
        self,
        data: Mapping[str, object],
        section: str,
        read: Callable[[int, Mapping[str, object]], T | None],
    ) -> tuple[T, ...]:
        tables = data.get(section, [])
        if not isinstance(tables, list):
            message = f"expected an array of tables ([[{section}]]), got {describe(tables)}"
            self.errors.append(OrgError("file", section, message))
            return ()
        values: list[T] = []
        for index, table in enumerate(tables, 1):
            if not isinstance(table, dict):
                message = f"expected a table, got {describe(table)}"
                self.errors.append(OrgError(f"{section} #{index}", "", message))
                continue
            value = read(index, table)
            if value is not None:
                values.append(value)
        return tuple(values)

    def new_id(self, entry: Entry, known: Mapping[str, object], section: str) -> str | None:
        """The entry's `id`, reporting a duplicate within its section."""
        id_ = entry.text("id")
        if id_ is not None and id_ in known:
            entry.error("id", f"duplicate id {id_!r}: another {section} already uses it")
        return id_

    def refs(
        self, entry: Entry, key: str, kind: str, ids: list[str], known: Collection[str]
    ) -> None:
        for id_ in ids:
            if id_ not in known:
                entry.error(key, unknown(kind, id_, known))

    def helpline(self, table: object) -> HelplineConfig:
        if not isinstance(table, dict):
            message = f"expected a table ([helpline]), got {describe(table)}"
            self.errors.append(OrgError("file", "helpline", message))
            table = {}
        entry = Entry("helpline", "helpline", table, self.errors)
        timezone = entry.text("timezone", required=False) or OSLO
        try:
            self.tz = zone(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            entry.error("timezone", f"unknown timezone {timezone!r}, e.g. 'Europe/Oslo'")
        fallback = entry.parsed("fallback_phone", normalise_phone)
        deadline = entry.parsed("message_deadline", parse_duration, required=False)
        extra = entry.parsed_list("extra_holidays", parse_month_day, required=False)
        network = entry.parsed("network_number", normalise_phone, required=False)
        if network is not None:
            self.numbers.claim(entry, "network_number", [network], "the helpline's network_number")
        quiet = entry.parsed("quiet_hours", parse_quiet_hours, required=False)
        size = entry.integer("ressursfamilie_size", minimum=1, required=False)
        return HelplineConfig(
            fallback_phone=fallback or "",
            timezone=timezone,
            message_deadline=deadline or _DEFAULTS.message_deadline,
            extra_holidays=tuple(extra or ()),
            network_number=network,
            quiet_hours=quiet or _DEFAULTS.quiet_hours,
            ressursfamilie_size=size or _DEFAULTS.ressursfamilie_size,
        )

    def kommune(self, index: int, table: Mapping[str, object]) -> Kommune | None:
        entry = Entry(entry_name("kommune", index, table, "id"), "kommune", table, self.errors)
        id_ = self.new_id(entry, self.kommune_ids, "kommune")
        name = entry.text("name")
        numbers = entry.parsed_list("numbers", normalise_phone, required=False)
        if id_ is None:
            return None
        self.kommune_ids.setdefault(id_, entry.name)
        # A call to a helpline number is routed by the kommune that owns the number.
        self.numbers.claim(entry, "numbers", numbers or [], f"kommune {id_!r}")
        if name is None or numbers is None:
            return None
        return Kommune(id_, name, tuple(numbers))

    def team(self, index: int, table: Mapping[str, object]) -> Team | None:
        entry = Entry(entry_name("team", index, table, "id"), "team", table, self.errors)
        id_ = self.new_id(entry, self.team_kommuner, "team")
        name = entry.text("name")
        kind = entry.text("kind")
        if kind is not None and kind not in _TEAM_KINDS:
            entry.error(
                "kind", f"unknown team kind {kind!r}: expected 'kommune' or 'barnevernvakt'"
            )
        kommuner = entry.texts("kommuner")
        if kommuner is not None:
            self.refs(entry, "kommuner", "kommune", kommuner, self.kommune_ids)
        duty_phone = entry.parsed("duty_phone", normalise_phone, required=False)
        if id_ is None:
            return None
        self.team_kommuner.setdefault(id_, None if kommuner is None else tuple(kommuner))
        if name is None or kommuner is None or kind not in _TEAM_KINDS:
            return None
        return Team(id_, name, kind, tuple(kommuner), duty_phone)

    def person(self, index: int, table: Mapping[str, object]) -> Person | None:
        entry = Entry(entry_name("person", index, table, "id"), "person", table, self.errors)
        id_ = self.new_id(entry, self.person_teams, "person")
        name = entry.text("name")
        phone = entry.parsed("phone", normalise_phone)
        teams = entry.texts("teams", required=False)
        if teams is not None:
            self.refs(entry, "teams", "team", teams, self.team_kommuner)
        if id_ is None:
            return None
        self.person_teams.setdefault(id_, tuple(teams or ()))
        if name is None or phone is None or teams is None:
            return None
        return Person(id_, name, phone, tuple(teams))

    def coverage(self, index: int, table: Mapping[str, object]) -> Coverage | None:
        entry = Entry(
            entry_name("coverage", index, table, "kommune"), "coverage", table, self.errors
        )
        kommune = self.covered_kommune(entry)
        rules = self.rules(entry, kommune)
        if rules is not None:
            for overlap in overlaps(rules):
                entry.error("rules", _overlap_message(rules, overlap))
        if kommune is None or rules is None:
            return None
        return Coverage(kommune, tuple(rules))

    def covered_kommune(self, entry: Entry) -> str | None:
        """The coverage entry's kommune, if it exists; each kommune has one such entry."""
        kommune = entry.text("kommune")
        if kommune is None:
            return None
        if kommune not in self.kommune_ids:
            entry.error("kommune", unknown("kommune", kommune, self.kommune_ids))
            return None
        if kommune in self.covered:
            message = f"kommune {kommune!r} already has a coverage entry; put all its rules in one"
            entry.error("kommune", message)
        self.covered.setdefault(kommune, entry.name)
        return kommune

    def rules(self, entry: Entry, kommune: str | None) -> list[CoverageRule] | None:
        tables = entry.get("rules", True)
        if tables is None:
            return None
        if not isinstance(tables, list):
            entry.error("rules", f"expected an array of tables, got {describe(tables)}")
            return None
        rules: list[CoverageRule | None] = []
        for index, table in enumerate(tables, 1):
            name = f"{entry.name} rule {index}"
            if not isinstance(table, dict):
                self.errors.append(OrgError(name, "", f"expected a table, got {describe(table)}"))
                rules.append(None)
                continue
            rules.append(self.rule(Entry(name, "rule", table, self.errors), kommune))
        return None if None in rules else cast(list[CoverageRule], rules)

    def rule(self, entry: Entry, kommune: str | None) -> CoverageRule | None:
        days = entry.parsed("days", parse_days)
        start = entry.parsed("from", parse_time)
        end = entry.parsed("to", parse_time)
        team = entry.text("team")
        season = entry.parsed("season", parse_season, required=False)
        if team is not None and team not in self.team_kommuner:
            entry.error("team", unknown("team", team, self.team_kommuner))
        elif team is not None and kommune is not None and not self.serves(team, kommune):
            entry.error(
                "team",
                f"team {team!r} does not serve kommune {kommune!r}"
                f" (add {kommune!r} to the team's kommuner)",
            )
        if days is None or start is None or end is None or team is None:
            return None
        return CoverageRule(days, start, end, team, season)

    def rotation(self, index: int, table: Mapping[str, object]) -> Rotation | None:
        entry = Entry(entry_name("rotation", index, table, "team"), "rotation", table, self.errors)
        team = self.team_ref(entry)
        if team is not None and team in self.rotated:
            entry.error("team", f"team {team!r} already has a rotation; a team has one rotation")
        if team is not None:
            self.rotated.setdefault(team, entry.name)
        members = entry.texts("members")
        if members == []:
            entry.error("members", "must list at least one person")
        for member in members or ():
            self.member_ref(entry, "members", member, team)
        start = entry.parsed("start", local_parser(self.tz))
        every = entry.parsed("every", parse_period)
        if team is None or not members or start is None or every is None:
            return None
        return Rotation(team, tuple(members), start, every)

    def override(self, index: int, table: Mapping[str, object]) -> Override | None:
        team_text = table.get("team")
        name = f"override {index}"
        if isinstance(team_text, str) and team_text.strip():
            name = f"{name} (team {team_text!r})"
        entry = Entry(name, "override", table, self.errors)
        team = self.team_ref(entry)
        person = entry.text("person")
        if person is not None:
            self.member_ref(entry, "person", person, team)
        start = entry.parsed("from", local_parser(self.tz))
        end = entry.parsed("to", local_parser(self.tz))
        if start is not None and end is not None and end <= start:
            entry.error("to", "must be after 'from'")
        if team is None or person is None or start is None or end is None:
            return None
        return Override(team, person, start, end)

    def serves(self, team: str, kommune: str) -> bool:
        kommuner = self.team_kommuner[team]
        return kommuner is None or kommune in kommuner  # unreadable: reported already

    def team_ref(self, entry: Entry) -> str | None:
        team = entry.text("team")
        if team is not None and team not in self.team_kommuner:
            entry.error("team", unknown("team", team, self.team_kommuner))
        return team

    def member_ref(self, entry: Entry, key: str, person: str, team: str | None) -> None:
        if person not in self.person_teams:
            entry.error(key, unknown("person", person, self.person_teams))
        elif (
            team is not None
            and team in self.team_kommuner
            and team not in self.person_teams[person]
        ):
            entry.error(
                key,
                f"person {person!r} is not in team {team!r} (add {team!r} to the person's teams)",
            )

    def foster_home(self, index: int, table: Mapping[str, object]) -> FosterHome | None:
        entry = Entry(
            entry_name("foster_home", index, table, "id"), "foster_home", table, self.errors
        )
        id_ = self.new_id(entry, self.home_ids, "foster_home")
        name = entry.text("name")
        kommune = entry.text("kommune")
        if kommune is not None and kommune not in self.kommune_ids:
            entry.error("kommune", unknown("kommune", kommune, self.kommune_ids))
        phones = entry.parsed_list("phones", normalise_phone)
        if phones == []:
            entry.error("phones", "must list at least one phone number")
        if id_ is None:
            return None
        self.home_ids.setdefault(id_, entry.name)
        self.claim_home_phones(entry, id_, phones or [])
        if name is None or kommune is None or not phones:
            return None
        return FosterHome(id_, name, kommune, tuple(phones))

    def group(self, index: int, table: Mapping[str, object]) -> Group | None:
        entry = Entry(entry_name("group", index, table, "id"), "group", table, self.errors)
        return self.groups.group(entry)

    def access(self, index: int, table: Mapping[str, object]) -> Access | None:
        entry = Entry(entry_name("access", index, table, "person"), "access", table, self.errors)
        return self.access_entries.access(entry)

    def claim_home_phones(self, entry: Entry, home: str, phones: list[str]) -> None:
        # A caller's number must identify one foster home, or routing cannot pick a kommune.
        for phone in phones:
            owner = self.home_phone_owner.setdefault(phone, home)
            if owner != home:
                entry.error(
                    "phones", f"{mask_phone(phone)} already belongs to foster_home {owner!r}"
                )


def _overlap_message(rules: list[CoverageRule], overlap: Overlap) -> str:
    first, second, day = rules[overlap.first], rules[overlap.second], overlap.day
    label = WEEKDAYS[day.weekday] + (" (holiday)" if day.holiday else "")
    if first.season is not None or second.season is not None:
        label = f"{label} {format_month_day(day.month_day)}"
    return (
        f"rules {overlap.first + 1} and {overlap.second + 1} overlap, e.g. on {label}"
        f" from {format_time(overlap.start)} to {format_time(overlap.end)}"
    )
