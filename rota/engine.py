"""Who is on duty for a kommune at any instant, and over a range: shifts, gaps and duties.

`Rota` is built once from an `Organisation` and is then read-only apart from bounded memos.
It joins the coverage layout (`rota.layout`: which team covers when) with the staffing
(`rota.staffing`: who in a team is primary and backup when) into on-duty chains.
Every instant it returns is in UTC: arithmetic and comparison between two `Europe/Oslo`
datetimes ignore `fold` and would get the DST nights wrong; UTC ones cannot.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from datetime import datetime

from rota.layout import CoverageLayout, KommuneRules, Segment, UnknownKommune
from rota.memo import Memo
from rota.model import ChainEntry, Duty, Gap, Organisation, Role, Shift, fallback_entry
from rota.staffing import NOBODY, PrimaryBackup, Staffing, StaffKey, Table, UnknownTeam
from rota.wallclock import utc

__all__ = ["Chain", "PrimaryBackup", "Rota", "UnknownKommune", "UnknownTeam"]

Chain = tuple[ChainEntry, ...]

_Row = tuple[datetime, datetime, str | None, Chain, bool]
_Interval = tuple[datetime, datetime]
_ChainKey = tuple[StaffKey | None, StaffKey | None]  # (covering team's, barnevernvakt's)

_BVV: Role = "barnevernvakt"
_LIMIT = 1 << 18  # values in each memo keyed by date, time or staff
_RANGE_LIMIT = 512  # range-keyed layouts and staff tables kept for reuse


class Rota:
    """The rota engine over one organisation: on-duty chains, timelines, gaps and duties.

    Instants passed in must be aware (any zone); instants returned are in UTC.
    """

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self._staffing = Staffing(org, limit=_LIMIT, range_limit=_RANGE_LIMIT)
        self._layout = CoverageLayout(org, self._staffing, limit=_LIMIT, range_limit=_RANGE_LIMIT)
        self.tz = self._layout.tz
        self.calendar = self._layout.calendar
        self._kommune_ids: tuple[str, ...] = tuple(k.id for k in org.kommuner)
        self._bvv = _index_barnevernvakt(org)
        self._fallback = fallback_entry(org.helpline.fallback_phone)
        self._chains: Memo[_ChainKey, Chain] = Memo(self._chain, _LIMIT)

    # -- public API ---------------------------------------------------------------------

    def on_duty(self, kommune_id: str, at: datetime) -> Chain:
        """The ordered chain to call for `kommune_id` at `at`; never empty, fallback last."""
        t = utc(at)
        rules = self._layout.rules_of(kommune_id)
        day = t.astimezone(self.tz).date()
        team = self._layout.covering(rules, t, day)
        # In a gap nobody covers, but the barnevernvakt serving the kommune still comes
        # before the fallback: a caller in a gap reaches on-call staff if there are any.
        staff = self._staffing.at(team, t, day)[0] if team else None
        bvv_id = self._bvv.get(kommune_id)
        bvv = None
        if bvv_id is not None and bvv_id != team:
            bvv = self._staffing.at(bvv_id, t, day)[0]
        return self._chains[(staff, bvv)]

    def covering_team(self, kommune_id: str, at: datetime) -> str | None:
        """The team whose coverage rule holds `at` for the kommune, or None."""
        t = utc(at)
        rules = self._layout.rules_of(kommune_id)
        return self._layout.covering(rules, t, t.astimezone(self.tz).date())

    def staff(self, team_id: str, at: datetime) -> PrimaryBackup:
        """The team's (primary, backup) entries at `at`; either may be None."""
        t = utc(at)
        self._staffing.check(team_id)
        key, _ = self._staffing.at(team_id, t, t.astimezone(self.tz).date())
        return self._staffing.entries[key]

    def timeline(self, kommune_id: str, start: datetime, end: datetime) -> list[Shift]:
        """Consecutive shifts tiling [start, end) for the kommune, equal neighbours merged."""
        start, end = _range(start, end)
        rows = self._rows(kommune_id, self._layout.rules_of(kommune_id), start, end)
        return [Shift(kommune_id, s, e, team, chain, ok) for s, e, team, chain, ok in rows]

    def gaps(self, start: datetime, end: datetime, kommune_id: str | None = None) -> list[Gap]:
        """Uncovered intervals in [start, end), per kommune in organisation order, merged."""
        start, end = _range(start, end)
        ids = self._kommune_ids if kommune_id is None else (kommune_id,)
        found: list[Gap] = []
        for kid in ids:
            holes = self._holes(self._layout.rules_of(kid), start, end)
            found.extend(Gap(kid, s, e) for s, e in holes)
        return found

    def duties(self, team_id: str, start: datetime, end: datetime) -> list[Duty]:
        """The team's stretches of duty in [start, end), split where primary or backup change."""
        self._staffing.check(team_id)
        start, end = _range(start, end)
        covered: list[_Interval] = []
        for kid in self._layout.team_kommuner.get(team_id, ()):
            segments = self._layout.segments(self._layout.rules_of(kid), start, end)
            covered.extend((a, b) for a, b, team in segments if team == team_id)
        table = self._staffing.table(team_id, start, end)
        found: list[Duty] = []
        for a, b in _union(covered):
            for s, e, key in _pieces(table, a, b):
                primary, backup = self._entries(key)
                last = found[-1] if found else None
                if last and last.end == s and (last.primary, last.backup) == (primary, backup):
                    found[-1] = replace(last, end=e)
                else:
                    found.append(Duty(team_id, s, e, primary, backup))
        return found

    # -- chains ---------------------------------------------------------------------------

    def _entries(self, staff: StaffKey | None) -> PrimaryBackup:
        return (None, None) if staff is None else self._staffing.entries[staff]

    def _chain(self, key: _ChainKey) -> Chain:
        mine, bvv = key
        entries = [e for e in self._entries(mine) if e is not None]
        bvv_primary = self._entries(bvv)[0]
        if bvv_primary is not None:
            entries.append(replace(bvv_primary, role=_BVV))
        entries.append(self._fallback)
        return _dedup(entries)

    # -- ranges ---------------------------------------------------------------------------

    def _rows(
        self, kommune_id: str, rules: KommuneRules, start: datetime, end: datetime
    ) -> list[_Row]:
        bvv_id = self._bvv.get(kommune_id)
        bvv_table = self._staffing.table(bvv_id, start, end) if bvv_id is not None else NOBODY
        segments = self._layout.segments(rules, start, end)
        tables = self._tables(segments, start, end)
        rows: list[_Row] = []
        for a, b, team in segments:
            if team is None:  # a gap: only the barnevernvakt (if any) and the fallback
                self._walk(rows, (a, b, None), NOBODY, bvv_table)
                continue
            bvv = bvv_table if team != bvv_id else NOBODY
            self._walk(rows, (a, b, team), tables[team], bvv)
        return rows

    def _tables(self, segments: list[Segment], start: datetime, end: datetime) -> dict[str, Table]:
        """The staff table over [start, end) of every team covering one of the segments."""
        teams = {team for _, _, team in segments if team is not None}
        return {team: self._staffing.table(team, start, end) for team in teams}

    def _walk(self, rows: list[_Row], segment: Segment, mine: Table, bvv: Table) -> None:
        """Add the rows of one covered segment, split where either team's staff changes."""
        t, b, team = segment
        mb, ms, ok, ob, os = mine.bounds, mine.staff, mine.staffed, bvv.bounds, bvv.staff
        chains = self._chains
        i, j = bisect_right(mb, t) - 1, bisect_right(ob, t) - 1
        while t < b:
            e = min(mb[i + 1], ob[j + 1], b)
            _extend(rows, (t, e, team, chains[(ms[i], os[j])], ok[i]))
            i += mb[i + 1] == e
            j += ob[j + 1] == e
            t = e

    def _holes(self, rules: KommuneRules, start: datetime, end: datetime) -> list[_Interval]:
        segments = self._layout.segments(rules, start, end)
        tables = self._tables(segments, start, end)
        holes: list[_Interval] = []
        for a, b, team in segments:
            if team is None:
                _add(holes, a, b)
                continue
            table = tables[team]
            if table.callable:
                continue
            for s, e, staff in _pieces(table, a, b):
                if self._entries(staff)[0] is None:
                    _add(holes, s, e)
        return holes


def _index_barnevernvakt(org: Organisation) -> dict[str, str]:
    serving: dict[str, str] = {}
    for team in org.teams:
        if team.kind == "barnevernvakt":
            for kid in team.kommuner:
                serving.setdefault(kid, team.id)
    return serving


# -- small pure helpers -------------------------------------------------------------------


def _range(start: datetime, end: datetime) -> _Interval:
    s, e = utc(start), utc(end)
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


def _pieces(
    table: Table, a: datetime, b: datetime
) -> list[tuple[datetime, datetime, StaffKey | None]]:
    """A staff table cut to [a, b)."""
    found: list[tuple[datetime, datetime, StaffKey | None]] = []
    bounds, staff = table.bounds, table.staff
    i = bisect_right(bounds, a) - 1
    t = a
    while t < b:
        e = min(bounds[i + 1], b)
        found.append((t, e, staff[i]))
        t, i = e, i + 1
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
