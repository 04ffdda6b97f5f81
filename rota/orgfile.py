"""The organisation and rota file ("rota as code"): TOML text to `Organisation` and back.

Pure: text in, values out, no clock. `parse_org` collects every problem before it gives up,
each naming the entry and field (`team 'asker-bvt': field 'kommuner': unknown kommune
'askr'`), so a coordinator fixes a broken file in one pass and a load is all or nothing.
Times in the file are wall-clock in the organisation's timezone.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from rota.model import (
    DAY_WORDS,
    WEEKDAYS,
    Coverage,
    CoverageRule,
    FosterHome,
    HelplineConfig,
    Kommune,
    MonthDay,
    Organisation,
    Override,
    Person,
    Rotation,
    Season,
    Team,
    TeamKind,
)
from rota.phones import mask_phone, normalise_phone
from rota.wallclock import OSLO, local_instant, zone

__all__ = ["OrgError", "OrgFileError", "dump_org", "parse_org"]

T = TypeVar("T")

_FIELDS: dict[str, tuple[str, ...]] = {
    "helpline": ("timezone", "fallback_phone", "message_deadline", "extra_holidays"),
    "kommune": ("id", "name", "numbers"),
    "team": ("id", "name", "kind", "kommuner", "duty_phone"),
    "person": ("id", "name", "phone", "teams"),
    "coverage": ("kommune", "rules"),
    "rule": ("days", "from", "to", "team", "season"),
    "rotation": ("team", "members", "start", "every"),
    "override": ("team", "person", "from", "to"),
    "foster_home": ("id", "name", "kommune", "phones"),
}
_SECTIONS = tuple(key for key in _FIELDS if key != "rule")
_TEAM_KINDS: tuple[TeamKind, ...] = ("kommune", "barnevernvakt")
#: Canonical order of day words when a rule is written back.
_DAY_ORDER = (*WEEKDAYS, "weekday", "weekend", "holiday", "all")
_DEFAULT_DEADLINE = timedelta(minutes=10)
_DAY = 86_400  # seconds
_UNITS = {"w": 7 * _DAY, "d": _DAY, "h": 3600, "m": 60, "s": 1}


# --- errors -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgError:
    """One problem in an organisation file: which entry, which field, what is wrong."""

    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        if not self.field:
            return f"{self.entry}: {self.message}"
        return f"{self.entry}: field '{self.field}': {self.message}"


class OrgFileError(ValueError):
    """An organisation file that cannot be loaded; `errors` lists every problem found."""

    def __init__(self, errors: list[OrgError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


# --- values: text <-> time, duration, dates -----------------------------------------------

_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
_LOCAL_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](.+)")
_DURATION = re.compile(r"(?:\d+[wdhms])+")


def _parse_time(text: str) -> time:
    match = _TIME.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        hour, minute, second = (int(part) for part in match.groups(default="0"))
        return time(hour, minute, second)
    except ValueError:
        raise ValueError(f"invalid time {text!r}: expected HH:MM, 00:00 to 23:59") from None


def _parse_month_day(text: str) -> MonthDay:
    match = _MONTH_DAY.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        day = date(2000, int(match[1]), int(match[2]))  # a leap year: 02-29 is a date
    except ValueError:
        raise ValueError(f"invalid date {text!r}: expected MM-DD, e.g. 12-24") from None
    return day.month, day.day


def _parse_season(text: str) -> Season:
    parts = text.split("..")
    try:
        if len(parts) != 2:
            raise ValueError
        return Season(_parse_month_day(parts[0]), _parse_month_day(parts[1]))
    except ValueError:
        raise ValueError(
            f"invalid season {text!r}: expected MM-DD..MM-DD, e.g. 06-01..08-31"
        ) from None


def _parse_days(text: str) -> frozenset[str]:
    words = [word.strip().lower() for word in text.split(",")]
    unknown = [word for word in words if word not in DAY_WORDS]
    if unknown:
        raise ValueError(
            f"unknown day word {unknown[0]!r}: expected mon..sun, weekday, weekend, holiday"
            " or all, separated by commas"
        )
    return frozenset(words)


def _parse_duration(text: str) -> timedelta:
    compact = text.strip().lower()
    if _DURATION.fullmatch(compact) is None:
        raise ValueError(f"invalid duration {text!r}: expected e.g. 90s, 10m, 1h, 1d, 2w")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in re.findall(r"(\d+)([wdhms])", compact))
    if seconds == 0:
        raise ValueError(f"invalid duration {text!r}: must be longer than zero")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid duration {text!r}: too long") from None


def _parse_period(text: str) -> timedelta:
    period = _parse_duration(text)
    if period % timedelta(days=1):
        raise ValueError(f"invalid period {text!r}: must be whole days, e.g. 1d, 7d, 1w, 2w")
    return period


def _local_parser(tz: ZoneInfo) -> Callable[[str], datetime]:
    def parse(text: str) -> datetime:
        match = _LOCAL_DATETIME.fullmatch(text.strip())
        if match is None:
            raise ValueError(
                f"invalid date and time {text!r}: expected local wall-clock"
                " YYYY-MM-DDTHH:MM, without offset"
            )
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError(f"invalid date in {text!r}") from None
        try:
            return local_instant(day, _parse_time(match[4]), tz)
        except OverflowError:  # the instant is past year 9999 in UTC
            raise ValueError(f"invalid date and time {text!r}: out of range") from None

    return parse


def _format_time(at: time) -> str:
    return f"{at:%H:%M:%S}" if at.second else f"{at:%H:%M}"


def _format_local(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%Y-%m-%d}T{_format_time(local.time())}"


def _format_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in _UNITS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1s")


def _format_month_day(month_day: MonthDay) -> str:
    return f"{month_day[0]:02d}-{month_day[1]:02d}"


def _format_days(days: frozenset[str]) -> str:
    return ",".join(word for word in _DAY_ORDER if word in days)


# --- reading one table --------------------------------------------------------------------


def _describe(value: object) -> str:
    names = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        (datetime, "a TOML datetime"),
        (date, "a TOML date"),
        (time, "a TOML time"),
    )
    for kind, name in names:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _did_you_mean(value: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(kind: str, value: str, known: Collection[str]) -> str:
    return f"unknown {kind} {value!r}{_did_you_mean(value, known)}"


class _Entry:
    """Reads the fields of one table, recording problems under the entry's name."""

    def __init__(
        self, name: str, kind: str, table: Mapping[str, object], errors: list[OrgError]
    ) -> None:
        self.name = name
        self.table = table
        self.errors = errors
        allowed = _FIELDS[kind]
        for key in table:
            if key not in allowed:
                hint = _did_you_mean(key, allowed) or f" (expected one of: {', '.join(allowed)})"
                self.error(key, f"unknown field{hint}")

    def error(self, field: str, message: str) -> None:
        self.errors.append(OrgError(self.name, field, message))

    def get(self, key: str, required: bool) -> object:
        if key in self.table:
            return self.table[key]
        if required:
            self.error(key, "missing required field")
        return None  # TOML has no null: None means absent

    def _check_text(self, key: str, value: object) -> str | None:
        if not isinstance(value, str):
            hint = " (put it in quotes)" if isinstance(value, date | time) else ""
            self.error(key, f"expected a string, got {_describe(value)}{hint}")
            return None
        if not value.strip():
            self.error(key, "must not be empty")
            return None
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.get(key, required)
        return None if value is None else self._check_text(key, value)

    def texts(self, key: str, *, required: bool = True) -> list[str] | None:
        """A list of strings; an absent optional list is empty."""
        value = self.get(key, required)
        if value is None:
            return None if required else []
        if not isinstance(value, list):
            self.error(key, f"expected an array of strings, got {_describe(value)}")
            return None
        items = [self._check_text(key, item) for item in value]
        return None if None in items else cast(list[str], items)

    def parsed(self, key: str, parse: Callable[[str], T], *, required: bool = True) -> T | None:
        text = self.text(key, required=required)
        return None if text is None else self._apply(key, parse, text)

    def parsed_list(
        self, key: str, parse: Callable[[str], T], *, required: bool = True
    ) -> list[T] | None:
        texts = self.texts(key, required=required)
        if texts is None:
            return None
        values = [self._apply(key, parse, text) for text in texts]
        return None if None in values else cast(list[T], values)

    def _apply(self, key: str, parse: Callable[[str], T], text: str) -> T | None:
        try:
            return parse(text)
        except ValueError as exc:
            self.error(key, str(exc))
            return None


def _entry_name(section: str, index: int, table: Mapping[str, object], key: str) -> str:
    value = table.get(key)
    if isinstance(value, str) and value.strip():
        return f"{section} {value!r}"
    return f"{section} #{index}"


# --- parsing ------------------------------------------------------------------------------


def parse_org(text: str) -> Organisation:
    """Read an organisation file; raise `OrgFileError` listing every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OrgFileError([OrgError("file", "", f"TOML syntax error: {exc}")]) from None
    errors: list[OrgError] = []
    org = _Parser(errors).organisation(data)
    if errors:
        raise OrgFileError(errors)
    return org


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
        self.number_owner: dict[str, str] = {}  # helpline number -> kommune id
        self.home_phone_owner: dict[str, str] = {}  # foster home phone -> foster home id
        self.covered: dict[str, str] = {}  # kommune id -> its coverage entry
        self.rotated: dict[str, str] = {}  # team id -> its rotation entry

    def organisation(self, data: Mapping[str, object]) -> Organisation:
        for key in data:
            if key not in _SECTIONS:
                message = f"unknown section{_did_you_mean(key, _SECTIONS)}"
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
        )

    def each(
        self,
        data: Mapping[str, object],
        section: str,
        read: Callable[[int, Mapping[str, object]], T | None],
    ) -> tuple[T, ...]:
        tables = data.get(section, [])
        if not isinstance(tables, list):
            message = f"expected an array of tables ([[{section}]]), got {_describe(tables)}"
            self.errors.append(OrgError("file", section, message))
            return ()
        values: list[T] = []
        for index, table in enumerate(tables, 1):
            if not isinstance(table, dict):
                message = f"expected a table, got {_describe(table)}"
                self.errors.append(OrgError(f"{section} #{index}", "", message))
                continue
            value = read(index, table)
            if value is not None:
                values.append(value)
        return tuple(values)

    def new_id(self, entry: _Entry, known: Mapping[str, object], section: str) -> str | None:
        """The entry's `id`, reporting a duplicate within its section."""
        id_ = entry.text("id")
        if id_ is not None and id_ in known:
            entry.error("id", f"duplicate id {id_!r}: another {section} already uses it")
        return id_

    def refs(
        self, entry: _Entry, key: str, kind: str, ids: list[str], known: Collection[str]
    ) -> None:
        for id_ in ids:
            if id_ not in known:
                entry.error(key, _unknown(kind, id_, known))

    def helpline(self, table: object) -> HelplineConfig:
        if not isinstance(table, dict):
            message = f"expected a table ([helpline]), got {_describe(table)}"
            self.errors.append(OrgError("file", "helpline", message))
            table = {}
        entry = _Entry("helpline", "helpline", table, self.errors)
        timezone = entry.text("timezone", required=False) or OSLO
        try:
            self.tz = zone(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            entry.error("timezone", f"unknown timezone {timezone!r}, e.g. 'Europe/Oslo'")
        fallback = entry.parsed("fallback_phone", normalise_phone)
        deadline = entry.parsed("message_deadline", _parse_duration, required=False)
        extra = entry.parsed_list("extra_holidays", _parse_month_day, required=False)
        return HelplineConfig(
            fallback_phone=fallback or "",
            timezone=timezone,
            message_deadline=deadline or _DEFAULT_DEADLINE,
            extra_holidays=tuple(extra or ()),
        )

    def kommune(self, index: int, table: Mapping[str, object]) -> Kommune | None:
        entry = _Entry(_entry_name("kommune", index, table, "id"), "kommune", table, self.errors)
        id_ = self.new_id(entry, self.kommune_ids, "kommune")
        name = entry.text("name")
        numbers = entry.parsed_list("numbers", normalise_phone, required=False)
        if id_ is None:
            return None
        self.kommune_ids.setdefault(id_, entry.name)
        self.claim_numbers(entry, id_, numbers or [])
        if name is None or numbers is None:
            return None
        return Kommune(id_, name, tuple(numbers))

    def claim_numbers(self, entry: _Entry, kommune: str, numbers: list[str]) -> None:
        # A call to a helpline number is routed by the kommune that owns the number.
        for index, number in enumerate(numbers):
            owner = self.number_owner.setdefault(number, kommune)
            if owner != kommune:
                message = f"{mask_phone(number)} is already claimed by kommune {owner!r}"
                entry.error("numbers", message)
            elif number in numbers[:index]:
                entry.error("numbers", f"{mask_phone(number)} is listed twice")

    def team(self, index: int, table: Mapping[str, object]) -> Team | None:
        entry = _Entry(_entry_name("team", index, table, "id"), "team", table, self.errors)
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
        entry = _Entry(_entry_name("person", index, table, "id"), "person", table, self.errors)
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
        entry = _Entry(
            _entry_name("coverage", index, table, "kommune"), "coverage", table, self.errors
        )
        kommune = self.covered_kommune(entry)
        rules = self.rules(entry, kommune)
        for overlap in _overlaps(rules or []):
            entry.error("rules", overlap)
        if kommune is None or rules is None:
            return None
        return Coverage(kommune, tuple(rules))

    def covered_kommune(self, entry: _Entry) -> str | None:
        """The coverage entry's kommune, if it exists; each kommune has one such entry."""
        kommune = entry.text("kommune")
        if kommune is None:
            return None
        if kommune not in self.kommune_ids:
            entry.error("kommune", _unknown("kommune", kommune, self.kommune_ids))
            return None
        if kommune in self.covered:
            message = f"kommune {kommune!r} already has a coverage entry; put all its rules in one"
            entry.error("kommune", message)
        self.covered.setdefault(kommune, entry.name)
        return kommune

    def rules(self, entry: _Entry, kommune: str | None) -> list[CoverageRule] | None:
        tables = entry.get("rules", True)
        if tables is None:
            return None
        if not isinstance(tables, list):
            entry.error("rules", f"expected an array of tables, got {_describe(tables)}")
            return None
        rules: list[CoverageRule | None] = []
        for index, table in enumerate(tables, 1):
            name = f"{entry.name} rule {index}"
            if not isinstance(table, dict):
                self.errors.append(OrgError(name, "", f"expected a table, got {_describe(table)}"))
                rules.append(None)
                continue
            rules.append(self.rule(_Entry(name, "rule", table, self.errors), kommune))
        return None if None in rules else cast(list[CoverageRule], rules)

    def rule(self, entry: _Entry, kommune: str | None) -> CoverageRule | None:
        days = entry.parsed("days", _parse_days)
        start = entry.parsed("from", _parse_time)
        end = entry.parsed("to", _parse_time)
        team = entry.text("team")
        season = entry.parsed("season", _parse_season, required=False)
        if team is not None and team not in self.team_kommuner:
            entry.error("team", _unknown("team", team, self.team_kommuner))
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
        entry = _Entry(
            _entry_name("rotation", index, table, "team"), "rotation", table, self.errors
        )
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
        start = entry.parsed("start", _local_parser(self.tz))
        every = entry.parsed("every", _parse_period)
        if team is None or not members or start is None or every is None:
            return None
        return Rotation(team, tuple(members), start, every)

    def override(self, index: int, table: Mapping[str, object]) -> Override | None:
        team_text = table.get("team")
        name = f"override {index}"
        if isinstance(team_text, str) and team_text.strip():
            name = f"{name} (team {team_text!r})"
        entry = _Entry(name, "override", table, self.errors)
        team = self.team_ref(entry)
        person = entry.text("person")
        if person is not None:
            self.member_ref(entry, "person", person, team)
        start = entry.parsed("from", _local_parser(self.tz))
        end = entry.parsed("to", _local_parser(self.tz))
        if start is not None and end is not None and end <= start:
            entry.error("to", "must be after 'from'")
        if team is None or person is None or start is None or end is None:
            return None
        return Override(team, person, start, end)

    def serves(self, team: str, kommune: str) -> bool:
        kommuner = self.team_kommuner[team]
        return kommuner is None or kommune in kommuner  # unreadable: reported already

    def team_ref(self, entry: _Entry) -> str | None:
        team = entry.text("team")
        if team is not None and team not in self.team_kommuner:
            entry.error("team", _unknown("team", team, self.team_kommuner))
        return team

    def member_ref(self, entry: _Entry, key: str, person: str, team: str | None) -> None:
        if person not in self.person_teams:
            entry.error(key, _unknown("person", person, self.person_teams))
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
        entry = _Entry(
            _entry_name("foster_home", index, table, "id"), "foster_home", table, self.errors
        )
        id_ = self.new_id(entry, self.home_ids, "foster_home")
        name = entry.text("name")
        kommune = entry.text("kommune")
        if kommune is not None and kommune not in self.kommune_ids:
            entry.error("kommune", _unknown("kommune", kommune, self.kommune_ids))
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

    def claim_home_phones(self, entry: _Entry, home: str, phones: list[str]) -> None:
        # A caller's number must identify one foster home, or routing cannot pick a kommune.
        for phone in phones:
            owner = self.home_phone_owner.setdefault(phone, home)
            if owner != home:
                entry.error(
                    "phones", f"{mask_phone(phone)} already belongs to foster_home {owner!r}"
                )


# --- overlapping coverage rules -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Day:
    """What a rule can see of a date: weekday, holiday status and month-day."""

    weekday: int
    holiday: bool
    month_day: MonthDay

    def label(self, with_date: bool) -> str:
        text = WEEKDAYS[self.weekday] + (" (holiday)" if self.holiday else "")
        return f"{text} {_format_month_day(self.month_day)}" if with_date else text


def _overlaps(rules: list[CoverageRule]) -> Iterator[str]:
    """Describe each pair of rules that can be in force at the same wall-clock time."""
    for i, first in enumerate(rules):
        for j in range(i + 1, len(rules)):
            second = rules[j]
            found = _find_overlap(first, second)
            if found is not None:
                day, start, end = found
                seasonal = first.season is not None or second.season is not None
                yield (
                    f"rules {i + 1} and {j + 1} overlap, e.g. on {day.label(seasonal)}"
                    f" from {_clock(start)} to {_clock(end)}"
                )


def _find_overlap(a: CoverageRule, b: CoverageRule) -> tuple[_Day, int, int] | None:
    """A date and an interval (seconds from its midnight) covered by both rules, if any.

    Shifts are compared on one date, and an overnight shift against the next date's.
    """
    samples = _month_day_samples(a, b)
    for day in _days(samples):
        if a.applies(day.weekday, day.holiday, day.month_day) and b.applies(
            day.weekday, day.holiday, day.month_day
        ):
            hit = _intersect(_span(a), _span(b))
            if hit is not None:
                return day, hit[0], hit[1]
    for day, following in _consecutive_days(samples):
        for early, late in ((a, b), (b, a)):
            if not early.overnight or not early.applies(day.weekday, day.holiday, day.month_day):
                continue
            if late.applies(following.weekday, following.holiday, following.month_day):
                start, end = _span(late)
                hit = _intersect(_span(early), (start + _DAY, end + _DAY))
                if hit is not None:
                    return following, hit[0] - _DAY, hit[1] - _DAY
    return None


def _span(rule: CoverageRule) -> tuple[int, int]:
    start, end = _seconds(rule.start), _seconds(rule.end)
    return (start, end + _DAY) if rule.overnight else (start, end)


def _seconds(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


def _intersect(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


def _clock(seconds: int) -> str:
    return _format_time(time(*divmod(seconds % _DAY // 60, 60), seconds % 60))


def _month_day_samples(a: CoverageRule, b: CoverageRule) -> list[MonthDay]:
    """Month-days enough to decide whether two seasons, or a season and the day after
    another, can meet: where two recurring ranges intersect, one range's first day lies in
    the other, so each boundary and the days either side of it suffice. (A season that
    holds 02-28 but not 02-29 ends on 02-28, so the common-year step 02-28 -> 03-01 starts
    from a boundary too.)"""
    samples: set[MonthDay] = {(1, 15)}
    for season in (a.season, b.season):
        if season is not None:
            for boundary in (season.start, season.end):
                day = date(2000, *boundary)  # a leap year: 02-29 is a date
                for near in (day - timedelta(days=1), day, day + timedelta(days=1)):
                    samples.add((near.month, near.day))
    return sorted(samples)


def _days(samples: list[MonthDay]) -> Iterator[_Day]:
    for month_day in samples:
        for weekday in range(7):
            for holiday in (False, True):
                yield _Day(weekday, holiday, month_day)


def _consecutive_days(samples: list[MonthDay]) -> Iterator[tuple[_Day, _Day]]:
    """Pairs (date, next date); holiday status of each is free, the weekday follows."""
    for day in _days(samples):
        for following in _next_month_days(day.month_day):
            for holiday in (False, True):
                yield day, _Day((day.weekday + 1) % 7, holiday, following)


def _next_month_days(month_day: MonthDay) -> tuple[MonthDay, ...]:
    if month_day == (2, 28):
        return (2, 29), (3, 1)  # leap year, common year
    following = date(2000, *month_day) + timedelta(days=1)  # 12-31 -> 01-01 (of 2001)
    return ((following.month, following.day),)


# --- writing ------------------------------------------------------------------------------

_INLINE_WIDTH = 80
_HEADER = (
    "# Fosterhjemstelefonen: organisation and rota.\n"
    "# Times are wall-clock in the timezone of [helpline].\n"
)


def dump_org(org: Organisation) -> str:
    """Write `org` in the file format `parse_org` reads; `parse_org(dump_org(org)) == org`
    for any organisation that `parse_org` produced."""
    tz = zone(org.helpline.timezone)
    chunks = [_HEADER, _table("[helpline]", _helpline_doc(org.helpline))]
    chunks += [_table("[[kommune]]", _kommune_doc(k)) for k in org.kommuner]
    chunks += [_table("[[team]]", _team_doc(t)) for t in org.teams]
    chunks += [_table("[[person]]", _person_doc(p)) for p in org.people]
    chunks += [_coverage_table(c) for c in org.coverage]
    chunks += [_table("[[rotation]]", _rotation_doc(r, tz)) for r in org.rotations]
    chunks += [_table("[[override]]", _override_doc(o, tz)) for o in org.overrides]
    chunks += [_table("[[foster_home]]", _foster_home_doc(h)) for h in org.foster_homes]
    return "\n".join(chunks)


_Doc = dict[str, str | list[str]]


def _table(header: str, doc: _Doc) -> str:
    # Keys are our own bare words; tomli_w encodes each string value. Writing the lines
    # here keeps the layout of DESIGN.md: one [[section]] per entry, short lists inline.
    return header + "\n" + "".join(f"{key} = {_value(value)}\n" for key, value in doc.items())


def _value(value: str | list[str]) -> str:
    if isinstance(value, str):
        return _literal(value)
    inline = "[" + ", ".join(_literal(item) for item in value) + "]"
    if len(inline) <= _INLINE_WIDTH:
        return inline
    return "[\n" + "".join(f"  {_literal(item)},\n" for item in value) + "]"


def _literal(value: str) -> str:
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def _helpline_doc(config: HelplineConfig) -> _Doc:
    return {
        "timezone": config.timezone,
        "fallback_phone": config.fallback_phone,
        "message_deadline": _format_duration(config.message_deadline),
        "extra_holidays": [_format_month_day(day) for day in config.extra_holidays],
    }


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
        "days": _format_days(rule.days),
        "from": _format_time(rule.start),
        "to": _format_time(rule.end),
        "team": rule.team,
    }
    if rule.season is not None:
        fields["season"] = (
            f"{_format_month_day(rule.season.start)}..{_format_month_day(rule.season.end)}"
        )
    return "{ " + ", ".join(f"{key} = {_literal(value)}" for key, value in fields.items()) + " }"


def _rotation_doc(rotation: Rotation, tz: ZoneInfo) -> _Doc:
    return {
        "team": rotation.team,
        "members": list(rotation.members),
        "start": _format_local(rotation.start, tz),
        "every": _format_duration(rotation.every),
    }


def _override_doc(override: Override, tz: ZoneInfo) -> _Doc:
    return {
        "team": override.team,
        "person": override.person,
        "from": _format_local(override.start, tz),
        "to": _format_local(override.end, tz),
    }


def _foster_home_doc(home: FosterHome) -> _Doc:
    return {"id": home.id, "name": home.name, "kommune": home.kommune, "phones": list(home.phones)}
