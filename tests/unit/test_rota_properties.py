"""Properties of the rota engine over random aware instants and ranges, 2025-2035."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rota.engine import Rota
from rota.model import Shift
from tests.unit.rota_fixtures import FALLBACK, HOLE_ORG, ORG, OSLO, OVERLAP_ORG, dst_org, utc

FULL = Rota(ORG)
DST = Rota(dst_org())
HOLE = Rota(HOLE_ORG)
OVERLAP = Rota(OVERLAP_ORG)

FIRST, LAST = utc(2025, 1, 1), utc(2036, 1, 1)
SECONDS = int((LAST - FIRST).total_seconds())
SIXTY_DAYS = 60 * 24 * 3600

SETTINGS = settings(max_examples=100, deadline=None)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """An aware instant in 2025-2035, in UTC or in Oslo time (folds included)."""
    instant = FIRST + timedelta(seconds=draw(st.integers(0, SECONDS)))
    return instant.astimezone(OSLO) if draw(st.booleans()) else instant


@st.composite
def ranges(draw: st.DrawFn, min_seconds: int = 0) -> tuple[datetime, datetime]:
    """[start, end) of up to sixty days, both in UTC or both in Oslo time."""
    start = FIRST + timedelta(seconds=draw(st.integers(0, SECONDS)))
    end = start + timedelta(seconds=draw(st.integers(min_seconds, SIXTY_DAYS)))
    return (start.astimezone(OSLO), end.astimezone(OSLO)) if draw(st.booleans()) else (start, end)


covered_kommuner = st.sampled_from(
    [(FULL, "asker"), (FULL, "baerum"), (DST, "dst"), (DST, "tidlig"), (DST, "dogn")]
)
any_kommuner = st.one_of(covered_kommuner, st.sampled_from([(HOLE, "asker")]))


def containing(shifts: list[Shift], instant: datetime) -> Shift:
    i = bisect_right([s.start for s in shifts], instant) - 1
    assert shifts[i].start <= instant < shifts[i].end
    return shifts[i]


@SETTINGS
@given(covered_kommuner, instants())
def test_full_coverage_always_has_a_primary_and_ends_with_fallback(
    case: tuple[Rota, str], instant: datetime
) -> None:
    rota, kommune = case
    chain = rota.on_duty(kommune, instant)
    assert chain[0].role == "primary"
    assert chain[0].team == rota.covering_team(kommune, instant)
    assert chain[-1] == FALLBACK
    assert len({e.phone for e in chain}) == len(chain)


@SETTINGS
@given(any_kommuner, ranges())
def test_timeline_tiles_the_range_exactly(
    case: tuple[Rota, str], span: tuple[datetime, datetime]
) -> None:
    rota, kommune = case
    shifts = rota.timeline(kommune, *span)
    # Compare in UTC: `==` between zones is False for a time in the repeated hour (PEP 495).
    start, end = (t.astimezone(UTC) for t in span)
    if start == end:
        assert shifts == []
        return
    assert shifts[0].start == start
    assert shifts[-1].end == end
    for a, b in zip(shifts, shifts[1:], strict=False):
        assert a.end == b.start
        assert (a.team, a.chain, a.covered) != (b.team, b.chain, b.covered)  # merged
    assert all(s.start < s.end and s.chain[-1] == FALLBACK for s in shifts)


@SETTINGS
@given(any_kommuner, ranges(min_seconds=1), st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_on_duty_agrees_with_the_timeline(
    case: tuple[Rota, str], span: tuple[datetime, datetime], where: list[float]
) -> None:
    rota, kommune = case
    shifts = rota.timeline(kommune, *span)
    start, end = (t.astimezone(UTC) for t in span)
    length = (end - start).total_seconds()
    probes = [start, *(start + timedelta(seconds=int(f * length)) for f in where)]
    for instant in (p for p in probes if p < end):
        shift = containing(shifts, instant)
        assert rota.on_duty(kommune, instant) == shift.chain
        assert rota.covering_team(kommune, instant) == shift.team


@SETTINGS
@given(ranges())
def test_full_coverage_has_no_gaps(span: tuple[datetime, datetime]) -> None:
    assert FULL.gaps(*span) == []
    assert DST.gaps(*span) == []


@SETTINGS
@given(ranges(min_seconds=8 * 24 * 3600))
def test_a_hole_shows_within_any_eight_days(span: tuple[datetime, datetime]) -> None:
    gaps = HOLE.gaps(*span)
    assert gaps
    assert {g.kommune for g in gaps} == {"asker"}
    uncovered = [(s.start, s.end) for s in HOLE.timeline("asker", *span) if not s.covered]
    assert [(g.start, g.end) for g in gaps] == uncovered  # hole shifts are never adjacent
    for gap in gaps:
        assert HOLE.covering_team("asker", gap.start) is None
        chain = HOLE.on_duty("asker", gap.start)
        assert [e.role for e in chain] == ["barnevernvakt", "fallback"]
        assert chain[-1] == FALLBACK


@SETTINGS
@given(ranges())
def test_duties_are_the_shifts_a_team_covers(span: tuple[datetime, datetime]) -> None:
    for team in ("asker-bvt", "baerum-bvt", "bvv-vest"):
        covered: list[tuple[datetime, datetime]] = []
        for kommune in ("asker", "baerum"):
            covered += [(s.start, s.end) for s in FULL.timeline(kommune, *span) if s.team == team]
        duties = FULL.duties(team, *span)
        assert _union(covered) == _union([(d.start, d.end) for d in duties])
        for duty in duties:
            assert FULL.staff(team, duty.start) == (duty.primary, duty.backup)
            assert FULL.staff(team, duty.end - timedelta(microseconds=1)) == (
                duty.primary,
                duty.backup,
            )


def _union(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged
