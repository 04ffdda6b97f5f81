"""Who is on duty for a kommune at any instant, and over a range: shifts, gaps and duties.

`Rota` is built once from an `Organisation` and is then read-only apart from bounded caches.
Every instant it returns is in UTC: arithmetic and comparison between two `Europe/Oslo`
datetimes ignore `fold` and would get the DST nights wrong; UTC ones cannot.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from rota.holidays import HolidayCalendar
from rota.model import (
    ChainEntry,
    CoverageRule,
    Duty,
    Gap,
    MonthDay,
    Organisation,
    Override,
    Person,
    Role,
    Rotation,
    Shift,
    Team,
)
from rota.wallclock import local_instant, zone

Chain = tuple[ChainEntry, ...]
#: A team's (primary, backup) at some instant. Interned per Rota, so `is` compares them.
Staff = tuple[ChainEntry | None, ChainEntry | None]

_RuleRef = tuple[int, str, bool]  # (shape id, team id, overnight), in rule order
_Span = tuple[datetime, datetime]
_Piece = tuple[datetime, datetime, int]  # rule order covering [start, end); -1: no rule
_Segment = tuple[datetime, datetime, str | None]
_Row = tuple[datetime, datetime, str | None, Chain, bool]
_Interval = tuple[datetime, datetime]

_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_SPAN: _Span = (_EPOCH, _EPOCH)  # an empty [start, end): the rule does not apply that day
_BVV: Role = "barnevernvakt"
_CACHE_LIMIT = 1 << 18  # entries in the per-date caches
_RANGE_CACHE_LIMIT = 512  # range-keyed layouts and staff tables kept for reuse


class UnknownKommune(KeyError):
    """No kommune with this id in the organisation."""


class UnknownTeam(KeyError):
    """No team with this id in the organisation."""


@dataclass(frozen=True, slots=True)
class _Turns:
    """A rotation in wall-clock terms: handoff n is at `at` on `first_day + n * every` days."""

    members: tuple[str, ...]
    first_day: date
    at: time
    every: int


@dataclass(frozen=True, slots=True)
class _TeamIndex:
    team: Team
    turns: _Turns | None
    override_bounds: list[datetime]  # sorted UTC edges of all the team's overrides
    override_people: list[str | None]  # the winner on [bounds[i], bounds[i+1])


@dataclass(frozen=True, slots=True)
class _KommuneRules:
    refs: tuple[_RuleRef, ...]
    shapes: tuple[int, ...]  # the rules without their teams: kommuner share layouts by it
    teams: tuple[str | None, ...]  # team by rule order, then None for order -1


@dataclass(frozen=True, slots=True)
class _Table:
    """A team's staff over a range, piecewise constant: `staffs[i]` on [bounds[i], bounds[i+1])."""

    bounds: list[datetime]
    staffs: list[Staff]
    callable: bool  # every piece has a primary to call


#: Nobody: the staff of no team (interned, as chains are cached by staff identity).
_NO_STAFF: Staff = (None, None)
#: The staff table used when a chain has no barnevernvakt step: nobody, over all time.
_NOBODY = _Table(
    [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)], [_NO_STAFF], False
)


class Rota:
    """The rota engine over one organisation: on-duty chains, timelines, gaps and duties.

    Instants passed in must be aware (any zone); instants returned are in UTC.
    """

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.tz = zone(org.helpline.timezone)
        self.calendar = HolidayCalendar.for_config(org.helpline)
        self._people: dict[str, Person] = {p.id: p for p in org.people}
        self._kommune_ids: tuple[str, ...] = tuple(k.id for k in org.kommuner)
        self._fallback = ChainEntry(
            "fallback", None, None, "Reservenummer", org.helpline.fallback_phone
        )
        self._fallback_chain: Chain = (self._fallback,)
        self._teams = _index_teams(org, self._people)
        self._bvv = _index_barnevernvakt(org)
        self._shapes: list[CoverageRule] = []
        self._rules = self._index_rules(org)
        self._team_kommuner = _index_team_kommuner(self._rules)
        self._days: dict[date, tuple[int, bool, MonthDay]] = {}
        self._instants: dict[tuple[date, time], datetime] = {}
        self._spans: dict[tuple[int, date], _Span] = {}
        self._layouts: dict[tuple[tuple[int, ...], datetime, datetime], list[_Piece]] = {}
        self._tables: dict[tuple[str, datetime, datetime], _Table] = {}
        self._staffs: dict[tuple[str, str | None, str | None], Staff] = {}
        self._chains: dict[tuple[int, int], Chain] = {}

    # -- public API ---------------------------------------------------------------------

    def on_duty(self, kommune_id: str, at: datetime) -> Chain:
        """The ordered chain to call for `kommune_id` at `at`; never empty, fallback last."""
        return self._resolve(kommune_id, _utc(at))[1]

    def covering_team(self, kommune_id: str, at: datetime) -> str | None:
        """The team whose coverage rule holds `at` for the kommune, or None."""
        t = _utc(at)
        return self._covering(self._rules_of(kommune_id), t, self._local_day(t))

    def staff(self, team_id: str, at: datetime) -> Staff:
        """The team's (primary, backup) entries at `at`; either may be None."""
        t = _utc(at)
        return self._staff_at(self._team(team_id), t, self._local_day(t))[0]

    def timeline(self, kommune_id: str, start: datetime, end: datetime) -> list[Shift]:
        """Consecutive shifts tiling [start, end) for the kommune, equal neighbours merged."""
        start, end = _range(start, end)
        rows = self._rows(kommune_id, self._rules_of(kommune_id), start, end)
        return [Shift(kommune_id, s, e, team, chain, ok) for s, e, team, chain, ok in rows]

    def gaps(self, start: datetime, end: datetime, kommune_id: str | None = None) -> list[Gap]:
        """Uncovered intervals in [start, end), per kommune in organisation order, merged."""
        start, end = _range(start, end)
        ids = self._kommune_ids if kommune_id is None else (kommune_id,)
        found: list[Gap] = []
        for kid in ids:
            holes = self._holes(self._rules_of(kid), start, end)
            found.extend(Gap(kid, s, e) for s, e in holes)
        return found

    def duties(self, team_id: str, start: datetime, end: datetime) -> list[Duty]:
        """The team's stretches of duty in [start, end), split where primary or backup change."""
        self._team(team_id)
        start, end = _range(start, end)
        covered: list[_Interval] = []
        for kid in self._team_kommuner.get(team_id, ()):
            segments = self._segments(self._rules[kid], start, end)
            covered.extend((a, b) for a, b, team in segments if team == team_id)
        table = self._table(team_id, start, end)
        found: list[Duty] = []
        for a, b in _union(covered):
            for s, e, staff, _ in _overlay(table, None, a, b):
                last = found[-1] if found else None
                if last and last.end == s and (last.primary, last.backup) == staff:
                    found[-1] = replace(last, end=e)
                else:
                    found.append(Duty(team_id, s, e, staff[0], staff[1]))
        return found

    # -- coverage -----------------------------------------------------------------------

    def _index_rules(self, org: Organisation) -> dict[str, _KommuneRules]:
        refs: dict[str, list[_RuleRef]] = {kid: [] for kid in self._kommune_ids}
        shape_ids: dict[tuple[object, ...], int] = {}
        for cov in org.coverage:
            if cov.kommune not in refs:
                raise ValueError(f"coverage: unknown kommune {cov.kommune!r}")
            for rule in cov.rules:
                if rule.team not in self._teams:
                    raise ValueError(f"coverage {cov.kommune!r}: unknown team {rule.team!r}")
                key = (rule.days, rule.season, rule.start, rule.end)
                if key not in shape_ids:
                    shape_ids[key] = len(self._shapes)
                    self._shapes.append(rule)
                refs[cov.kommune].append((shape_ids[key], rule.team, rule.overnight))
        return {
            kid: _KommuneRules(tuple(rs), tuple(r[0] for r in rs), (*(r[1] for r in rs), None))
            for kid, rs in refs.items()
        }

    def _rules_of(self, kommune_id: str) -> _KommuneRules:
        try:
            return self._rules[kommune_id]
        except KeyError:
            raise UnknownKommune(kommune_id) from None

    def _local_day(self, t: datetime) -> date:
        return t.astimezone(self.tz).date()

    def _instant(self, day: date, at: time) -> datetime:
        """The UTC instant of wall-clock `at` on local `day` (cached)."""
        key = (day, at)
        found = self._instants.get(key)
        if found is None:
            if len(self._instants) > _CACHE_LIMIT:
                self._instants.clear()
            found = self._instants[key] = local_instant(day, at, self.tz).astimezone(UTC)
        return found

    def _day_facts(self, day: date) -> tuple[int, bool, MonthDay]:
        facts = self._days.get(day)
        if facts is None:
            if len(self._days) > _CACHE_LIMIT:
                self._days.clear()
            facts = (day.weekday(), self.calendar.is_holiday(day), (day.month, day.day))
            self._days[day] = facts
        return facts

    def _span(self, shape: int, day: date) -> _Span:
        """The shift a rule shape starts on local `day`, or an empty span (cached)."""
        key = (shape, day)
        span = self._spans.get(key)
        if span is None:
            if len(self._spans) > _CACHE_LIMIT:
                self._spans.clear()
            rule = self._shapes[shape]
            span = _NO_SPAN
            if rule.applies(*self._day_facts(day)):
                s = self._instant(day, rule.start)
                e = self._instant(day + _ONE_DAY if rule.overnight else day, rule.end)
                span = (s, e) if s < e else _NO_SPAN  # a rule inside the skipped hour
            self._spans[key] = span
        return span

    def _covering(self, rules: _KommuneRules, t: datetime, day: date) -> str | None:
        yesterday = day - _ONE_DAY
        for shape, team, overnight in rules.refs:
            s, e = self._span(shape, day)
            if s <= t < e:
                return team
            if overnight:  # only a shift running past midnight reaches into `day`
                s, e = self._span(shape, yesterday)
                if s <= t < e:
                    return team
        return None

    def _layout(self, shapes: tuple[int, ...], start: datetime, end: datetime) -> list[_Piece]:
        """[start, end) cut into pieces by the rule order that covers them (cached)."""
        key = (shapes, start, end)
        pieces = self._layouts.get(key)
        if pieces is None:
            spans: list[_Piece] = []
            day, last = self._local_day(start) - _ONE_DAY, self._local_day(end)
            while day <= last:
                for order, shape in enumerate(shapes):
                    s, e = self._span(shape, day)
                    if s < end and e > start and s < e:
                        spans.append((max(s, start), min(e, end), order))
                day += _ONE_DAY
            spans.sort()
            if len(self._layouts) > _RANGE_CACHE_LIMIT:
                self._layouts.clear()
            pieces = self._layouts[key] = _tile(spans, start, end)
        return pieces

    def _segments(self, rules: _KommuneRules, start: datetime, end: datetime) -> list[_Segment]:
        """[start, end) cut into maximal pieces with one covering team (or None)."""
        teams = rules.teams
        segments: list[_Segment] = []
        for s, e, order in self._layout(rules.shapes, start, end):
            team = teams[order]
            if segments and segments[-1][2] == team:
                segments[-1] = (segments[-1][0], e, team)
            else:
                segments.append((s, e, team))
        return segments

    # -- staff ----------------------------------------------------------------------------

    def _team(self, team_id: str) -> _TeamIndex:
        try:
            return self._teams[team_id]
        except KeyError:
            raise UnknownTeam(team_id) from None

    def _handoff(self, turns: _Turns, n: int) -> datetime:
        return self._instant(turns.first_day + timedelta(days=n * turns.every), turns.at)

    def _staff_at(self, index: _TeamIndex, t: datetime, day: date) -> tuple[Staff, datetime | None]:
        """The team's staff at `t` (local date `day`) and when it may next change (None: never)."""
        until: datetime | None = None
        override: str | None = None
        bounds = index.override_bounds
        if bounds:
            i = bisect_right(bounds, t)
            if i < len(bounds):
                until = bounds[i]
                override = index.override_people[i - 1] if i else None
        current = following = None
        turns = index.turns
        if turns is not None:
            # Handoff n falls on t's local date or before; on that date it may still be ahead.
            n = (day - turns.first_day).days // turns.every
            if self._handoff(turns, n) > t:
                n -= 1
            current = turns.members[n % len(turns.members)]
            following = turns.members[(n + 1) % len(turns.members)]
            handoff = self._handoff(turns, n + 1)
            until = handoff if until is None or handoff < until else until
        primary = override if override is not None else current
        candidates = (current, following) if override else (following,)
        backup = next((p for p in candidates if p is not None and p != primary), None)
        return self._staff(index.team, primary, backup), until

    def _staff(self, team: Team, primary: str | None, backup: str | None) -> Staff:
        key = (team.id, primary, backup)
        staff = self._staffs.get(key)
        if staff is None:
            staff = (self._primary_entry(team, primary), self._backup_entry(team, backup))
            self._staffs[key] = staff
        return staff

    def _primary_entry(self, team: Team, person_id: str | None) -> ChainEntry | None:
        person = self._people[person_id] if person_id else None
        if team.duty_phone:
            name = person.name if person else team.name
            return ChainEntry("primary", team.id, person_id, name, team.duty_phone)
        if person is None:
            return None
        return ChainEntry("primary", team.id, person.id, person.name, person.phone)

    def _backup_entry(self, team: Team, person_id: str | None) -> ChainEntry | None:
        if person_id is None:
            return None
        person = self._people[person_id]
        return ChainEntry("backup", team.id, person.id, person.name, person.phone)

    def _table(self, team_id: str, start: datetime, end: datetime) -> _Table:
        """The team's staff over [start, end) as a piecewise-constant table (cached)."""
        key = (team_id, start, end)
        table = self._tables.get(key)
        if table is None:
            index = self._teams[team_id]
            bounds: list[datetime] = [start]
            staffs: list[Staff] = []
            t = start
            while t < end:
                staff, until = self._staff_at(index, t, self._local_day(t))
                t = end if until is None or until > end else until
                if staffs and staffs[-1] is staff:
                    bounds[-1] = t
                else:
                    staffs.append(staff)
                    bounds.append(t)
            if len(self._tables) > _RANGE_CACHE_LIMIT:
                self._tables.clear()
            callable_ = all(staff[0] is not None for staff in staffs)
            table = self._tables[key] = _Table(bounds, staffs, callable_)
        return table

    # -- chains ---------------------------------------------------------------------------

    def _chain(self, staff: Staff, bvv: Staff | None) -> Chain:
        key = (id(staff), id(bvv))  # both interned (or None) for the Rota's lifetime
        chain = self._chains.get(key)
        if chain is None:
            entries = [e for e in staff if e is not None]
            if bvv is not None and bvv[0] is not None:
                entries.append(replace(bvv[0], role=_BVV))
            entries.append(self._fallback)
            chain = self._chains[key] = _dedup(entries)
        return chain

    def _resolve(self, kommune_id: str, t: datetime) -> tuple[str | None, Chain, bool]:
        rules = self._rules_of(kommune_id)
        day = self._local_day(t)
        team = self._covering(rules, t, day)
        # In a gap nobody covers, but the barnevernvakt serving the kommune still comes
        # before the fallback: a caller in a gap reaches on-call staff if there are any.
        staff = self._staff_at(self._teams[team], t, day)[0] if team else _NO_STAFF
        bvv_id = self._bvv.get(kommune_id)
        bvv = None
        if bvv_id is not None and bvv_id != team:
            bvv = self._staff_at(self._teams[bvv_id], t, day)[0]
        return team, self._chain(staff, bvv), staff[0] is not None

    # -- ranges ---------------------------------------------------------------------------

    def _rows(
        self, kommune_id: str, rules: _KommuneRules, start: datetime, end: datetime
    ) -> list[_Row]:
        bvv_id = self._bvv.get(kommune_id)
        bvv_table = self._table(bvv_id, start, end) if bvv_id is not None else _NOBODY
        tables: dict[str, _Table] = {}
        rows: list[_Row] = []
        for a, b, team in self._segments(rules, start, end):
            if team is None:  # a gap: only the barnevernvakt (if any) and the fallback
                self._walk(rows, (a, b, None), _NOBODY, bvv_table)
                continue
            mine = tables.get(team)
            if mine is None:
                mine = tables[team] = self._table(team, start, end)
            self._walk(rows, (a, b, team), mine, bvv_table if team != bvv_id else _NOBODY)
        return rows

    def _walk(self, rows: list[_Row], segment: _Segment, mine: _Table, bvv: _Table) -> None:
        """Add the rows of one covered segment, split where either team's staff changes."""
        t, b, team = segment
        mb, ms, ob, os = mine.bounds, mine.staffs, bvv.bounds, bvv.staffs
        i, j = bisect_right(mb, t) - 1, bisect_right(ob, t) - 1
        while t < b:
            e = min(mb[i + 1], ob[j + 1], b)
            staff, other = ms[i], (os[j] if bvv is not _NOBODY else None)
            chain = self._chains.get((id(staff), id(other))) or self._chain(staff, other)
            _extend(rows, (t, e, team, chain, staff[0] is not None))
            i += mb[i + 1] == e
            j += ob[j + 1] == e
            t = e

    def _holes(self, rules: _KommuneRules, start: datetime, end: datetime) -> list[_Interval]:
        holes: list[_Interval] = []
        tables: dict[str, _Table] = {}
        for a, b, team in self._segments(rules, start, end):
            if team is None:
                _add(holes, a, b)
                continue
            table = tables.get(team)
            if table is None:
                table = tables[team] = self._table(team, start, end)
            if table.callable:
                continue
            for s, e, staff, _ in _overlay(table, None, a, b):
                if staff[0] is None:
                    _add(holes, s, e)
        return holes


# -- building the indexes -----------------------------------------------------------------


def _index_teams(org: Organisation, people: dict[str, Person]) -> dict[str, _TeamIndex]:
    rotations: dict[str, Rotation] = {}
    for rot in org.rotations:
        rotations.setdefault(rot.team, rot)
    overrides: dict[str, list[Override]] = {}
    for ov in org.overrides:
        overrides.setdefault(ov.team, []).append(ov)
    teams = {team.id: team for team in org.teams}
    for team_id in (*rotations, *overrides):
        if team_id not in teams:
            raise ValueError(f"rotation or override: unknown team {team_id!r}")
    index: dict[str, _TeamIndex] = {}
    for team in org.teams:
        turns = _turns(rotations.get(team.id), people, org.helpline.timezone)
        bounds, winners = _override_table(overrides.get(team.id, []), people)
        index[team.id] = _TeamIndex(team, turns, bounds, winners)
    return index


def _turns(rot: Rotation | None, people: dict[str, Person], tz_key: str) -> _Turns | None:
    if rot is None or not rot.members:
        return None
    for member in rot.members:
        if member not in people:
            raise ValueError(f"rotation {rot.team!r}: unknown person {member!r}")
    if rot.every < _ONE_DAY or rot.every % _ONE_DAY:
        raise ValueError(f"rotation {rot.team!r}: every must be whole days, got {rot.every}")
    local = _utc(rot.start).astimezone(zone(tz_key))
    return _Turns(rot.members, local.date(), local.time().replace(fold=0), rot.every.days)


def _override_table(
    overrides: list[Override], people: dict[str, Person]
) -> tuple[list[datetime], list[str | None]]:
    """Flatten overrides into edges and the winner between them: the latest start wins."""
    items: list[tuple[datetime, int, datetime, str]] = []
    for order, ov in enumerate(overrides):
        if ov.person not in people:
            raise ValueError(f"override {ov.team!r}: unknown person {ov.person!r}")
        s, e = _utc(ov.start), _utc(ov.end)
        if s < e:
            items.append((s, order, e, ov.person))
    items.sort()
    bounds = sorted({s for s, *_ in items} | {e for _, _, e, _ in items})
    winners: list[str | None] = []
    active: list[tuple[int, datetime, str]] = []  # a heap on -rank: the latest start on top
    k = 0
    for t in bounds[:-1]:
        while k < len(items) and items[k][0] <= t:
            heapq.heappush(active, (-k, items[k][2], items[k][3]))
            k += 1
        while active and active[0][1] <= t:
            heapq.heappop(active)
        winners.append(active[0][2] if active else None)
    return bounds, winners


def _index_barnevernvakt(org: Organisation) -> dict[str, str]:
    serving: dict[str, str] = {}
    for team in org.teams:
        if team.kind == "barnevernvakt":
            for kid in team.kommuner:
                serving.setdefault(kid, team.id)
    return serving


def _index_team_kommuner(rules: dict[str, _KommuneRules]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kid, kommune_rules in rules.items():
        for team in dict.fromkeys(team for _, team, _ in kommune_rules.refs):
            found.setdefault(team, []).append(kid)
    return found


# -- small pure helpers -------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: pass an aware instant")
    return at.astimezone(UTC)


def _range(start: datetime, end: datetime) -> _Interval:
    s, e = _utc(start), _utc(end)
    if e < s:
        raise ValueError(f"range ends before it starts: {start.isoformat()} > {end.isoformat()}")
    return s, e


def _dedup(entries: list[ChainEntry]) -> Chain:
    seen: set[str] = set()
    kept: list[ChainEntry] = []
    for entry in entries:
        if entry.phone not in seen:
            seen.add(entry.phone)
            kept.append(entry)
    return tuple(kept)


def _tile(spans: list[_Piece], start: datetime, end: datetime) -> list[_Piece]:
    """Tile [start, end) with sorted, clipped spans and the holes between them."""
    pieces: list[_Piece] = []
    t = start
    for s, e, order in spans:
        if s < t:
            return _sweep(spans, start, end)
        if s > t:
            pieces.append((t, s, -1))
        pieces.append((s, e, order))
        t = e
    if t < end:
        pieces.append((t, end, -1))
    return pieces


def _sweep(spans: list[_Piece], start: datetime, end: datetime) -> list[_Piece]:
    """Like `_tile` for overlapping spans: where they overlap the lowest rule order wins."""
    cuts = sorted({start, end, *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    pieces: list[_Piece] = []
    active: list[tuple[int, datetime]] = []
    k = 0
    for a, b in zip(cuts, cuts[1:], strict=False):
        while k < len(spans) and spans[k][0] <= a:
            active.append((spans[k][2], spans[k][1]))
            k += 1
        active = [x for x in active if x[1] > a]
        pieces.append((a, b, min(active)[0] if active else -1))
    return pieces


def _overlay(
    mine: _Table, other: _Table | None, a: datetime, b: datetime
) -> list[tuple[datetime, datetime, Staff, Staff | None]]:
    """One or two staff tables cut to [a, b), split wherever either changes."""
    found: list[tuple[datetime, datetime, Staff, Staff | None]] = []
    mb, ms = mine.bounds, mine.staffs
    i = bisect_right(mb, a) - 1
    t = a
    if other is None:
        while t < b:
            e = min(mb[i + 1], b)
            found.append((t, e, ms[i], None))
            t, i = e, i + 1
        return found
    ob, os = other.bounds, other.staffs
    j = bisect_right(ob, a) - 1
    while t < b:
        e = min(mb[i + 1], ob[j + 1], b)
        found.append((t, e, ms[i], os[j]))
        i += mb[i + 1] == e
        j += ob[j + 1] == e
        t = e
    return found


def _extend(rows: list[_Row], row: _Row) -> None:
    """Append `row`, or stretch the last row over it when they say the same thing."""
    if rows:
        s, e, team, chain, covered = rows[-1]
        if e == row[0] and team == row[2] and covered == row[4] and chain == row[3]:
            rows[-1] = (s, row[1], team, chain, covered)
            return
    rows.append(row)


def _add(holes: list[_Interval], s: datetime, e: datetime) -> None:
    if holes and holes[-1][1] == s:
        holes[-1] = (holes[-1][0], e)
    else:
        holes.append((s, e))


def _union(intervals: list[_Interval]) -> list[_Interval]:
    merged: list[_Interval] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged
