"""Coverage layout: which rule, and so which team, covers a kommune when.

A rule starts a shift on each local date it applies to (holidays included); the shift is
the UTC span between its wall-clock `from` and `to`, DST-safe. Rules are indexed by shape
(days, season, from, to: everything but the team), so kommuner with the same hours share
their spans and layouts. Where rules overlap, the one listed first wins.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from rota.holidays import HolidayCalendar
from rota.memo import Memo
from rota.model import CoverageRule, Organisation
from rota.wallclock import utc_instants, zone

_RuleRef = tuple[int, str, bool]  # (shape id, team id, overnight), in rule order
_Span = tuple[datetime, datetime]
_Piece = tuple[datetime, datetime, int]  # rule order covering [start, end); -1: no rule
#: [start, end) covered by one team, or by none.
Segment = tuple[datetime, datetime, str | None]

_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_SPAN: _Span = (_EPOCH, _EPOCH)  # an empty [start, end): the rule does not apply that day


class UnknownKommune(KeyError):
    """No kommune with this id in the organisation."""


@dataclass(frozen=True, slots=True)
class KommuneRules:
    """A kommune's coverage rules, in order."""

    refs: tuple[_RuleRef, ...]
    shapes: tuple[int, ...]  # the rules without their teams: kommuner share layouts by it
    teams: tuple[str | None, ...]  # team by rule order, then None for order -1


class CoverageLayout:
    """The coverage rules of every kommune, read at instants and over ranges."""

    def __init__(
        self, org: Organisation, teams: Container[str], *, limit: int, range_limit: int
    ) -> None:
        self.tz = zone(org.helpline.timezone)
        self.calendar = HolidayCalendar.for_config(org.helpline)
        self._shapes: list[CoverageRule] = []
        self._rules = self._index_rules(org, teams)
        #: The kommuner each team covers by some rule, in organisation order.
        self.team_kommuner = _index_team_kommuner(self._rules)
        self._instants = utc_instants(self.tz, limit)
        self._spans: Memo[tuple[int, date], _Span] = Memo(self._span, limit)
        self._layouts: Memo[tuple[tuple[int, ...], datetime, datetime], list[_Piece]] = Memo(
            self._layout, range_limit
        )

    def rules_of(self, kommune_id: str) -> KommuneRules:
        try:
            return self._rules[kommune_id]
        except KeyError:
            raise UnknownKommune(kommune_id) from None

    def covering(self, rules: KommuneRules, t: datetime, day: date) -> str | None:
        """The team whose rule holds at `t` (local date `day`), or None."""
        spans = self._spans
        yesterday = day - _ONE_DAY
        for shape, team, overnight in rules.refs:
            s, e = spans[(shape, day)]
            if s <= t < e:
                return team
            if overnight:  # only a shift running past midnight reaches into `day`
                s, e = spans[(shape, yesterday)]
                if s <= t < e:
                    return team
        return None

    def segments(self, rules: KommuneRules, start: datetime, end: datetime) -> list[Segment]:
        """[start, end) cut into maximal pieces with one covering team (or None)."""
        teams = rules.teams
        segments: list[Segment] = []
        for s, e, order in self._layouts[(rules.shapes, start, end)]:
            team = teams[order]
            if segments and segments[-1][2] == team:
                segments[-1] = (segments[-1][0], e, team)
            else:
                segments.append((s, e, team))
        return segments

    def _index_rules(self, org: Organisation, teams: Container[str]) -> dict[str, KommuneRules]:
        refs: dict[str, list[_RuleRef]] = {k.id: [] for k in org.kommuner}
        shape_ids: dict[tuple[object, ...], int] = {}
        for cov in org.coverage:
            if cov.kommune not in refs:
                raise ValueError(f"coverage: unknown kommune {cov.kommune!r}")
            for rule in cov.rules:
                if rule.team not in teams:
                    raise ValueError(f"coverage {cov.kommune!r}: unknown team {rule.team!r}")
                key = (rule.days, rule.season, rule.start, rule.end)
                if key not in shape_ids:
                    shape_ids[key] = len(self._shapes)
                    self._shapes.append(rule)
                refs[cov.kommune].append((shape_ids[key], rule.team, rule.overnight))
        return {
            kid: KommuneRules(tuple(rs), tuple(r[0] for r in rs), (*(r[1] for r in rs), None))
            for kid, rs in refs.items()
        }

    def _span(self, key: tuple[int, date]) -> _Span:
        """The shift a rule shape starts on local `day`, or an empty span."""
        shape, day = key
        rule = self._shapes[shape]
        if not rule.applies(day.weekday(), self.calendar.is_holiday(day), (day.month, day.day)):
            return _NO_SPAN
        s = self._instants[(day, rule.start)]
        e = self._instants[(day + _ONE_DAY if rule.overnight else day, rule.end)]
        return (s, e) if s < e else _NO_SPAN  # a rule inside the skipped hour

    def _layout(self, key: tuple[tuple[int, ...], datetime, datetime]) -> list[_Piece]:
        """[start, end) cut into pieces by the rule order that covers them."""
        shapes, start, end = key
        spans: list[_Piece] = []
        day, last = start.astimezone(self.tz).date() - _ONE_DAY, end.astimezone(self.tz).date()
        while day <= last:
            for order, shape in enumerate(shapes):
                s, e = self._spans[(shape, day)]
                if s < end and e > start and s < e:
                    spans.append((max(s, start), min(e, end), order))
            day += _ONE_DAY
        spans.sort()
        return _tile(spans, start, end)


def _index_team_kommuner(rules: dict[str, KommuneRules]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kid, kommune_rules in rules.items():
        for team in dict.fromkeys(team for _, team, _ in kommune_rules.refs):
            found.setdefault(team, []).append(kid)
    return found


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
