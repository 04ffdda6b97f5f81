"""What the Vaktplan shows, as plain values for its templates.

Built from the rota engine of the loaded organisation (the same `Rota` that `helpline
oncall` and `helpline coverage` ask) and laid out by `rota.plan`; Norwegian words for
dates and roles live here, decisions do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from helpline.bootstrap import LoadedOrg
from rota.model import ChainEntry, Duty, Organisation, Override, Shift
from rota.plan import (
    Piece,
    balance,
    by_day,
    duty_span,
    duty_stretches,
    gap_hours,
    hours,
    role_of,
    shift_span,
    shift_stretches,
)
from rota.wallclock import local_midnight, utc

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
WEEKDAYS_SHORT = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
EXTRA_HOLIDAY = "Ekstra fridag (vakt som på helligdag)"
ROLE_NAMES = {"primary": "Primærvakt", "backup": "Bakvakt", "barnevernvakt": "Barnevernvakt"}


@dataclass(frozen=True, slots=True)
class Plan:
    """Whose plan is shown: a kommune's or a team's."""

    kind: str  # "kommune" or "team"
    id: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class Slot:
    """One stretch of a day: its local times, who covers it, and whether it is a gap."""

    start: str
    end: str
    team: str | None
    primary: str | None
    backup: str | None
    barnevernvakt: str | None
    gap: bool


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    label: str  # "torsdag 24. desember"
    holiday: str | None  # the holiday's name, or the extra day's note
    in_month: bool
    slots: tuple[Slot, ...]

    @property
    def gaps(self) -> int:
        return sum(slot.gap for slot in self.slots)


@dataclass(frozen=True, slots=True)
class OnDuty:
    role: str
    name: str
    team: str


@dataclass(frozen=True, slots=True)
class ShownOverride:
    key: str
    team: str
    team_name: str
    person_name: str
    span: str  # "24.12.2026 08:00 – 27.12.2026 08:00"
    editable: bool


@dataclass(frozen=True, slots=True)
class BalanceRow:
    name: str
    primary: str
    backup: str
    total: str
    share: str  # of all primary hours


@dataclass(frozen=True, slots=True)
class Report:
    start: str
    end: str
    gap_hours: str
    gaps: int
    rows: tuple[BalanceRow, ...]


def day_label(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day}. {MONTHS[day.month - 1]}"


def local_text(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def override_key(override: Override) -> str:
    """How a remove button names its override: team, person and the UTC span."""
    start, end = utc(override.start), utc(override.end)
    return f"{override.team}|{override.person}|{start.isoformat()}|{end.isoformat()}"


class PlanView:
    """The Vaktplan of one loaded organisation."""

    def __init__(self, loaded: LoadedOrg) -> None:
        self.loaded = loaded
        self.org: Organisation = loaded.org
        self.rota = loaded.rota
        self.tz = loaded.rota.tz
        self.teams = {t.id: t for t in self.org.teams}
        self.kommuner = {k.id: k for k in self.org.kommuner}
        self.people = {p.id: p for p in self.org.people}

    def plan(self, kind: str, id_: str) -> Plan | None:
        if kind == "kommune" and id_ in self.kommuner:
            return Plan(kind, id_, self.kommuner[id_].name)
        if kind == "team" and id_ in self.teams:
            return Plan(kind, id_, self.teams[id_].name)
        return None

    def team_name(self, team: str | None) -> str | None:
        return None if team is None else self.teams[team].name if team in self.teams else team

    def days(self, plan: Plan, days: list[date], month: int | None = None) -> list[Day]:
        """The plan's slots on each of `days`; `month` marks the days outside it."""
        start = local_midnight(days[0], self.tz)
        end = local_midnight(days[-1] + timedelta(days=1), self.tz)
        if plan.kind == "kommune":
            shifts = self.rota.timeline(plan.id, start, end)
            pieces_s = by_day(shifts, shift_span, days, self.tz)
            slots = {d: tuple(self._shift_slot(p) for p in pieces_s[d]) for d in days}
        else:
            duties = self.rota.duties(plan.id, start, end)
            pieces_d = by_day(duties, duty_span, days, self.tz)
            slots = {d: tuple(self._duty_slot(p) for p in pieces_d[d]) for d in days}
        calendar = self.rota.calendar
        return [
            Day(
                day,
                day_label(day),
                calendar.public_name(day) or (EXTRA_HOLIDAY if calendar.is_extra(day) else None),
                month is None or day.month == month,
                slots[day],
            )
            for day in days
        ]

    def on_duty(self, plan: Plan, at: datetime) -> list[OnDuty]:
        """Who answers at `at`: a kommune's chain (fallback left out), a team's staff
        when the team covers some kommune then."""
        if plan.kind == "kommune":
            chain = self.rota.on_duty(plan.id, at)
            return [
                OnDuty(ROLE_NAMES[e.role], e.name, self.team_name(e.team) or "")
                for e in chain
                if e.role in ROLE_NAMES
            ]
        covering = any(
            self.rota.covering_team(k, at) == plan.id for k in self.teams[plan.id].kommuner
        )
        if not covering:
            return []
        primary, backup = self.rota.staff(plan.id, at)
        return [
            OnDuty(ROLE_NAMES[role], e.name, plan.name)
            for role, e in (("primary", primary), ("backup", backup))
            if e is not None
        ]

    def overrides(
        self,
        teams: tuple[str, ...],
        editable: tuple[str, ...],
        now: datetime,
        period: tuple[datetime, datetime],
    ) -> list[ShownOverride]:
        """The overrides of `teams` that have not ended by `now` or overlap the period
        shown, in file order."""
        return [
            ShownOverride(
                override_key(o),
                o.team,
                self.team_name(o.team) or o.team,
                self.people[o.person].name if o.person in self.people else o.person,
                self.span_text(o.start, o.end),
                o.team in editable,
            )
            for o in self.org.overrides
            if o.team in teams and (o.end > now or (o.start < period[1] and o.end > period[0]))
        ]

    def period(self, days: list[Day]) -> tuple[datetime, datetime]:
        """The instants from the first day's midnight to the one after the last day."""
        first, last = days[0].day, days[-1].day + timedelta(days=1)
        return local_midnight(first, self.tz), local_midnight(last, self.tz)

    def span_text(self, start: datetime, end: datetime) -> str:
        return f"{local_text(start, self.tz)} – {local_text(end, self.tz)}"

    def find_override(self, key: str) -> Override | None:
        return next((o for o in self.org.overrides if override_key(o) == key), None)

    def plan_teams(self, plan: Plan) -> tuple[str, ...]:
        """The teams a plan is about: the team, or the teams serving the kommune."""
        if plan.kind == "team":
            return (plan.id,)
        return tuple(t.id for t in self.org.teams if plan.id in t.kommuner)

    def my_duties(self, person: str, start: datetime, end: datetime) -> list[tuple[str, str, str]]:
        """The person's own duties in [start, end): (span, role, team) as shown."""
        found: list[tuple[datetime, str, str, str]] = []
        me = self.people.get(person)
        for team in me.teams if me else ():
            if team not in self.teams:
                continue
            for duty in self.rota.duties(team, start, end):
                for role, entry in (("primary", duty.primary), ("backup", duty.backup)):
                    if entry is not None and entry.person == person:
                        span = (
                            f"{local_text(duty.start, self.tz)} – {local_text(duty.end, self.tz)}"
                        )
                        found.append((duty.start, span, ROLE_NAMES[role], self.teams[team].name))
        found.sort()
        return [(span, role, team) for _, span, role, team in found]

    def report(self, plan: Plan, first: date, weeks: int) -> Report:
        """Gap hours and duty hours per person over `weeks` weeks from `first`."""
        start = local_midnight(first, self.tz)
        last = first + timedelta(weeks=weeks)
        end = local_midnight(last, self.tz)
        if plan.kind == "kommune":
            gaps = self.rota.gaps(start, end, plan.id)
            gap_total, gap_count = gap_hours(gaps), len(gaps)
            rows = balance(shift_stretches(self.rota.timeline(plan.id, start, end)))
        else:
            duties = self.rota.duties(plan.id, start, end)
            holes = [d for d in duties if d.primary is None]
            gap_total = sum((d.end - d.start for d in holes), timedelta(0))
            gap_count = len(holes)
            members = self._members(plan.id)
            rows = balance(duty_stretches(duties), members)
        all_primary = sum((r.primary for r in rows), timedelta(0))
        shown = tuple(
            BalanceRow(
                r.name,
                _hours(r.primary),
                _hours(r.backup),
                _hours(r.total),
                f"{100 * r.primary / all_primary:.0f} %".replace(".", ",") if all_primary else "–",
            )
            for r in rows
        )
        return Report(
            day_text(first), day_text(last - timedelta(days=1)), _hours(gap_total), gap_count, shown
        )

    def _members(self, team: str) -> list[tuple[str, str]]:
        rotation = next((r for r in self.org.rotations if r.team == team), None)
        ids = rotation.members if rotation else ()
        return [(pid, self.people[pid].name) for pid in ids if pid in self.people]

    def _shift_slot(self, piece: Piece[Shift]) -> Slot:
        chain = piece.item.chain
        return Slot(
            *self._times(piece.start, piece.end),
            team=self.team_name(piece.item.team),
            primary=_name(role_of(chain, "primary")),
            backup=_name(role_of(chain, "backup")),
            barnevernvakt=_name(role_of(chain, "barnevernvakt")),
            gap=not piece.item.covered,
        )

    def _duty_slot(self, piece: Piece[Duty]) -> Slot:
        duty = piece.item
        return Slot(
            *self._times(piece.start, piece.end),
            team=self.team_name(duty.team),
            primary=_name(duty.primary),
            backup=_name(duty.backup),
            barnevernvakt=None,
            gap=duty.primary is None,
        )

    def _times(self, start: datetime, end: datetime) -> tuple[str, str]:
        s, e = start.astimezone(self.tz), end.astimezone(self.tz)
        end_text = "24:00" if (e.hour, e.minute) == (0, 0) and e.date() > s.date() else f"{e:%H:%M}"
        return f"{s:%H:%M}", end_text


def day_text(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def _name(entry: ChainEntry | None) -> str | None:
    return None if entry is None else entry.name


def _hours(span: timedelta) -> str:
    return f"{hours(span):.1f}".replace(".", ",")
